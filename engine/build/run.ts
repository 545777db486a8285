/**
 * RUN: a container of the parent image with the step's command, environment,
 * user and working directory, the build's network mode, extra hosts and shm
 * size; its output goes to the build stream; its snapshot's diff is the layer.
 * The container is removed after the step (unless the build keeps them, rm=false).
 */
import type { Readable } from 'node:stream';
import type { Engine } from '../engine.js';
import type { ImageConfig } from '../images/index.js';
import { BuildStepError, type StepContainers } from './index.js';
import { layerOf } from './rootfs.js';

type Cfg = NonNullable<ImageConfig['config']>;

export interface RunStep {
  imageId: string;
  cmd: string[];
  /** What docker prints in the error: the step's command as it ran. */
  shown: string;
  config: Cfg;
  env: string[];
  networkMode?: string;
  extraHosts: string[];
  shmSize?: number;
}

export interface RunResult {
  containerId: string;
  layer: Readable | undefined;
  /** Drops the container (after the layer was consumed). */
  release(): Promise<void>;
}

/** Paths the runtime creates in the rootfs for its own mounts; docker keeps them out of layers (its init layer). */
const INIT_PATHS = ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/proc', '/sys', '/dev', '/dev/shm', '/dev/pts', '/dev/mqueue', '/dev/console', '/.dockerenv', '/etc/mtab'];

export async function runStep(engine: Engine, containers: StepContainers, step: RunStep, write: (text: string) => void, keep: boolean, signal: AbortSignal): Promise<RunResult> {
  const { Id: id } = await containers.create({
    Image: step.imageId,
    Cmd: step.cmd,
    Entrypoint: [''],
    Env: step.env,
    WorkingDir: step.config.WorkingDir ?? '',
    User: step.config.User ?? '',
    Labels: {},
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    OpenStdin: false,
    Healthcheck: { Test: ['NONE'] },
    HostConfig: {
      NetworkMode: step.networkMode || 'default',
      ExtraHosts: step.extraHosts.length ? step.extraHosts : undefined,
      ShmSize: step.shmSize || undefined,
      AutoRemove: false,
    },
  }, undefined);
  const release = async () => {
    if (!keep) await containers.remove(id, { force: true, volumes: true }).catch(() => undefined);
  };
  write(` ---> Running in ${id.slice(0, 12)}\n`);
  try {
    // Not awaited: it settles once the container starts (awaiting it first would wait forever).
    const attached = Promise.resolve(containers.attachStreams(id, { stdin: false, stdout: true, stderr: true })).then((s) => s);
    attached.catch(() => undefined);
    const { result } = containers.waitRegistered(id, 'next-exit');
    const onAbort = () => void containers.kill(id, 'SIGKILL').catch(() => undefined);
    signal.addEventListener('abort', onAbort);
    let output: Promise<void> = Promise.resolve();
    try {
      await containers.start(id);
      output = pump(await attached, write);
      const exit = await result;
      await output;
      if (signal.aborted) throw new BuildStepError('the build was canceled', 1);
      if (exit.StatusCode !== 0) {
        throw new BuildStepError(`The command '${step.shown}' returned a non-zero code: ${exit.StatusCode}`, exit.StatusCode);
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    const drop = new Set<string>();
    for (const c of await engine.snapshots.changes(containers.get(id).snapshotKey)) {
      if (c.Kind === 1 && INIT_PATHS.includes(c.Path)) drop.add(c.Path);
    }
    // A directory copied up only because the runtime made a mount point in it.
    const changes = await engine.snapshots.changes(containers.get(id).snapshotKey);
    for (const c of changes) {
      if (c.Kind === 0 && changes.every((o) => o.Path === c.Path || !o.Path.startsWith(c.Path + '/') || drop.has(o.Path)) && changes.some((o) => o.Path.startsWith(c.Path + '/'))) {
        drop.add(c.Path);
      }
    }
    const layer = await layerOf(engine, containers.get(id).snapshotKey, drop);
    return { containerId: id, layer, release };
  } catch (err) {
    await release();
    throw err;
  }
}

/** Demultiplexes docker's stdout/stderr frames into `write`. */
async function pump(sock: Readable, write: (text: string) => void): Promise<void> {
  let buf = Buffer.alloc(0);
  for await (const chunk of sock) {
    buf = Buffer.concat([buf, chunk as Buffer]);
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      write(buf.subarray(8, 8 + size).toString('utf8'));
      buf = buf.subarray(8 + size);
    }
  }
}
