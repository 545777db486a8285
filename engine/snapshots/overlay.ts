/**
 * overlay2 snapshotter: a snapshot is upper/ + work/ on top of the image's
 * layer dirs as lowerdirs. Only this file knows where those directories live.
 */
import { existsSync, lstatSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { NotFoundError } from '../errors.js';
import type { Change, Mount, Snapshotter } from './index.js';
import { diffTarFrom, type DiffEntry } from './difftar.js';
import { isWhiteout, opaqueDirs, walkTree } from './walk.js';
import { duBytes, SnapshotDirs } from './meta.js';

export class OverlaySnapshotter extends SnapshotDirs implements Snapshotter {
  readonly driver = 'overlay2' as const;

  async prepare(key: string, parentChainId: string | undefined): Promise<Mount[]> {
    const dir = this.newDir(key);
    if (parentChainId) await this.layers.lowerDirs(parentChainId);
    await mkdir(join(dir, 'upper'), { recursive: true, mode: 0o755 });
    await mkdir(join(dir, 'work'), { recursive: true, mode: 0o700 });
    await this.writeMeta(dir, key, parentChainId);
    return this.mounts(key);
  }

  async mounts(key: string): Promise<Mount[]> {
    const dir = this.dir(key);
    const meta = await this.meta(key);
    const upper = join(dir, 'upper');
    if (!meta.parent) return [{ type: 'bind', source: upper, options: ['rbind', 'rw'] }];
    const lowers = await this.layers.lowerDirs(meta.parent);
    return [{ type: 'overlay', source: 'overlay', options: [`lowerdir=${lowers.join(':')}`, `upperdir=${upper}`, `workdir=${join(dir, 'work')}`] }];
  }

  async usage(key: string): Promise<number> {
    return duBytes(join(this.dir(key), 'upper'));
  }

  async changes(key: string): Promise<Change[]> {
    const dir = this.dir(key);
    const meta = await this.meta(key);
    const lowers = meta.parent ? await this.layers.lowerDirs(meta.parent) : [];
    const out: Change[] = [];
    for (const e of walkTree(join(dir, 'upper'))) {
      const path = `/${e.rel}`;
      if (isWhiteout(e.st)) out.push({ Path: path, Kind: 2 });
      else out.push({ Path: path, Kind: inLowers(lowers, e.rel) ? 0 : 1 });
    }
    return out;
  }

  diffTar(key: string): Readable {
    const upper = join(this.dir(key), 'upper');
    return diffTarFrom(() => upperEntries(upper));
  }
}

async function* upperEntries(upper: string): AsyncIterable<DiffEntry> {
  if (!existsSync(upper)) throw new NotFoundError(`snapshot ${upper} not found`);
  const entries = [...walkTree(upper)];
  const opaque = await opaqueDirs(entries);
  for (const e of entries) {
    if (isWhiteout(e.st)) {
      yield { rel: e.rel, kind: 'whiteout' };
      continue;
    }
    yield { rel: e.rel, abs: e.abs, st: e.st, kind: 'entry' };
    if (opaque.has(e.rel)) yield { rel: e.rel, kind: 'opaque' };
  }
}

/** Whether the path exists in the merged lower stack (top first, whiteouts hide). */
function inLowers(lowers: string[], rel: string): boolean {
  for (const l of lowers) {
    try {
      const st = lstatSync(join(l, rel));
      return !isWhiteout(st);
    } catch {
      // Not in this layer: look further down.
    }
  }
  return false;
}
