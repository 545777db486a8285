/**
 * Steps that write files (COPY, ADD, WORKDIR): a writable snapshot on top of the
 * parent image, mounted for the step only; its diff is the step's layer.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import type { Engine } from '../engine.js';
import { mountRootfs, unmountRootfs } from '../containers/rootfs.js';
import { tarStream } from '../images/tarlib.js';

export interface MountedStep {
  key: string;
  root: string;
  /** The diff as a layer tar, undefined when the step changed nothing (an empty layer). */
  layer(): Promise<Readable | undefined>;
  /** Unmounts and drops the snapshot. */
  release(): Promise<void>;
}

/** A writable rootfs on `parentChainId` (undefined: empty). */
export async function mountStep(engine: Engine, parentChainId: string | undefined, readOnlyUse = false): Promise<MountedStep> {
  const key = `build-${randomBytes(12).toString('hex')}`;
  const root = join(engine.config.execRoot, 'build', key);
  const mounts = await engine.snapshots.prepare(key, parentChainId);
  try {
    await mountRootfs(mounts, root);
  } catch (err) {
    await engine.snapshots.remove(key).catch(() => undefined);
    throw err;
  }
  let mounted = true;
  const unmount = async () => {
    if (!mounted) return;
    mounted = false;
    await unmountRootfs(root);
    await rm(root, { recursive: true, force: true });
  };
  return {
    key,
    root,
    layer: async () => {
      await unmount();
      if (readOnlyUse) return undefined;
      return layerOf(engine, key, new Set());
    },
    release: async () => {
      await unmount().catch(() => undefined);
      await engine.snapshots.remove(key).catch(() => undefined);
    },
  };
}

/**
 * The snapshot's diff as a layer tar, without the entries in `drop` (paths the runtime
 * made for its mounts, which docker keeps in a separate init layer); undefined when
 * nothing is left.
 */
export async function layerOf(engine: Engine, key: string, drop: Set<string>): Promise<Readable | undefined> {
  const changes = await engine.snapshots.changes(key);
  const kept = changes.filter((c) => !drop.has(c.Path));
  if (!kept.length) return undefined;
  const tar = engine.snapshots.diffTar(key);
  if (!drop.size) return tar;
  return filterTar(tar, (name) => !drop.has('/' + name.replace(/\/$/, '')));
}

function filterTar(input: Readable, keep: (name: string) => boolean): Readable {
  const out = new PassThrough();
  void (async () => {
    const ts = await tarStream();
    const ex = ts.extract();
    const pack = ts.pack();
    pack.pipe(out);
    ex.on('entry', (h, stream, next) => {
      if (!keep(h.name)) {
        stream.on('end', next);
        stream.resume();
        return;
      }
      stream.pipe(pack.entry(h, (err) => (err ? ex.destroy(err) : next())));
    });
    ex.on('finish', () => pack.finalize());
    ex.on('error', (e) => out.destroy(e));
    input.on('error', (e) => out.destroy(e));
    input.pipe(ex);
  })().catch((e) => out.destroy(e));
  return out;
}
