/**
 * The Engine: every service berthd runs, handed to each routes module. Built in
 * daemon.ts. Services are shut down in reverse order of construction.
 *
 * Hooks other services offer to the image/system routes (all optional):
 * - containers.counts(): for GET /info;
 * - containers.usingImage(imageId): a container id using that image, or
 *   undefined (DELETE /images answers 409 when defined, unless forced);
 * - containers.diskUsage(), volumes.diskUsage(): entries for GET /system/df.
 */
import type { DaemonConfig } from './config.js';
import type { EventBus } from './events.js';
import type { ImageService } from './images/index.js';
import type { Snapshotter } from './snapshots/index.js';

export interface Service {
  shutdown?(): Promise<void> | void;
}

export interface ContainerHooks {
  counts?(): { running: number; paused: number; stopped: number };
  usingImage?(imageId: string): string | undefined;
  diskUsage?(): Promise<unknown[]>;
}

export interface SwarmHooks {
  info?(): Promise<unknown>;
  localState?(): string;
  role?(): string | undefined;
}

export interface VolumeHooks {
  diskUsage?(): Promise<unknown[]>;
}

export interface Engine {
  config: DaemonConfig;
  events: EventBus;
  images: ImageService;
  snapshots: Snapshotter;
  /** Each service is set by its owner in daemon.ts. */
  containers?: Service & ContainerHooks & Record<string, any>;
  networks?: Service & Record<string, any>;
  networking?: Service & Record<string, any>;
  volumes?: Service & VolumeHooks & Record<string, any>;
  /** Managed plugins (engine/plugins): volume drivers for the volumes service. */
  plugins?: Service & Record<string, any>;
  /** Swarm mode (engine/swarm): info() for GET /info, localState()/role() for /_ping. */
  swarm?: Service & SwarmHooks & Record<string, any>;
  /** Unique id of this engine (persisted in data-root/engine-id). */
  id: string;
  startedAt: Date;
}
