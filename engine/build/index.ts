/**
 * The build service: POST /build, Dockerfile builds with the classic builder's
 * semantics (one image per instruction, a layer cache keyed on parent image +
 * instruction + build args + copied content), on top of the engine's services:
 *
 * - images: resolve/pull the bases, `commit` each step (a layer tar or none),
 *   `createFromConfig` for steps restored from --cache-from;
 * - snapshots: COPY/ADD/WORKDIR write into a writable snapshot of the parent
 *   image, mounted for the step, and its diff becomes the layer;
 * - containers: RUN creates, attaches to, starts and removes a container of the
 *   parent image (the narrow contract below), and commits its snapshot's diff.
 *
 * Files: dockerfile.ts (parser), expand.ts (variables), context.ts (receiving the
 * context; .dockerignore rules are src/common/dockerignore.ts), copy.ts (COPY/ADD), rootfs.ts (snapshot
 * steps), run.ts (RUN), cache.ts (the cache), builder.ts (the dispatch loop).
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { Service } from '../engine.js';
import type { ProgressMessage } from '../images/index.js';

export interface BuildOptions {
  /** Path of the Dockerfile inside the context; default "Dockerfile". */
  dockerfile: string;
  tags: string[];
  buildArgs: Record<string, string | null>;
  labels: Record<string, string>;
  target?: string;
  noCache: boolean;
  pull: boolean;
  /** Remove intermediate containers after a successful step (docker's rm). */
  rm: boolean;
  /** Remove them after a failed step too. */
  forceRm: boolean;
  cacheFrom: string[];
  networkMode?: string;
  platform?: string;
  shmSize?: number;
  extraHosts: string[];
  quiet: boolean;
}

/** Where a build writes its progress: docker's build stream messages. */
export interface BuildOutput {
  /** Step lines and RUN output: {"stream": text}. */
  stream(text: string): void;
  /** Pull progress of a base image. */
  progress(message: ProgressMessage): void;
  /** {"aux": {"ID": id}} before the final lines. */
  aux(value: unknown): void;
}

/** A failed build step: the message docker prints, and the exit code the CLI exits with. */
export class BuildStepError extends Error {
  constructor(message: string, readonly code: number) {
    super(message);
    this.name = 'BuildStepError';
  }
}

export interface BuildService extends Service {
  /** Runs a build of `context` (the request body); answers the image id. */
  build(context: Readable, opts: BuildOptions, out: BuildOutput, signal: AbortSignal): Promise<string>;
}

/** What RUN needs of the containers service: create and run a container of an image, then drop it. */
export interface StepContainers {
  create(req: Record<string, unknown>, name: string | undefined): Promise<{ Id: string }>;
  attachStreams(id: string, streams: { stdin: boolean; stdout: boolean; stderr: boolean }): Promise<Socket | Promise<Socket>>;
  waitRegistered(id: string, condition: 'next-exit'): { result: Promise<{ StatusCode: number; Error: { Message: string } | null }> };
  start(id: string): Promise<void>;
  kill(id: string, signal?: string): Promise<void>;
  remove(id: string, opts: { force?: boolean; volumes?: boolean }): Promise<void>;
  get(id: string): { snapshotKey: string };
}

export { createBuildService } from './builder.js';
