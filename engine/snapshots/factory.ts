import { join } from 'node:path';
import type { DaemonConfig } from '../config.js';
import { hasOverlayfs } from '../host.js';
import { log } from '../log.js';
import type { LayerDirs } from '../images/layers.js';
import type { Snapshotter } from './index.js';
import { OverlaySnapshotter } from './overlay.js';
import { VfsSnapshotter } from './vfs.js';
import { InvalidArgumentError } from '../errors.js';

/** --storage-driver, or overlay2 where the kernel has overlayfs, else vfs. */
export function createSnapshotter(config: DaemonConfig, layers: LayerDirs): Snapshotter {
  const root = join(config.dataRoot, 'snapshots');
  let driver = config.storageDriver;
  if (!driver) {
    driver = hasOverlayfs() ? 'overlay2' : 'vfs';
    if (driver === 'vfs') log.warn('overlayfs is missing from this kernel: using the vfs storage driver (full copies, slow)');
  } else if (driver === 'overlay2' && !hasOverlayfs()) {
    throw new InvalidArgumentError('--storage-driver overlay2: this kernel has no overlayfs (modprobe overlay, or use --storage-driver vfs)');
  }
  return driver === 'overlay2' ? new OverlaySnapshotter(root, layers) : new VfsSnapshotter(root, layers);
}
