/**
 * Snapshotters hand out mounts, not paths: a container's rootfs is the image's
 * read-only layer stack plus a writable snapshot named by the container's key.
 *
 * Vocabulary: `key` names a writable snapshot (the container id); `parent` is the
 * chain id of the image's top layer (undefined = empty rootfs).
 */
import type { Readable } from 'node:stream';
import type { Service } from '../engine.js';

/** Same shape as an OCI config.json mount. */
export interface Mount {
  type: string;
  source: string;
  destination?: string;
  options: string[];
}

/** `docker diff` entries: Kind 0 modified, 1 added, 2 deleted. */
export interface Change {
  Path: string;
  Kind: 0 | 1 | 2;
}

export interface Snapshotter extends Service {
  readonly driver: 'overlay2' | 'vfs';
  /** Creates the writable snapshot `key` on top of `parentChainId` and returns its mounts. */
  prepare(key: string, parentChainId: string | undefined): Promise<Mount[]>;
  /** The mounts of an existing snapshot (NotFoundError if absent). */
  mounts(key: string): Promise<Mount[]>;
  remove(key: string): Promise<void>;
  /** What the container changed relative to its image. */
  changes(key: string): Promise<Change[]>;
  /** The writable layer as a docker layer tar (whiteouts as .wh. files). */
  diffTar(key: string): Readable;
  /** Bytes used by the writable layer (SizeRw). */
  usage(key: string): Promise<number>;
  /** Snapshot keys that exist (for cleanup of orphans). */
  list(): Promise<string[]>;
}
