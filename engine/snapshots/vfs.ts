/**
 * vfs snapshotter, for hosts without overlayfs: a snapshot is a full copy of
 * the image's layers applied in order (whiteouts and opaque dirs resolved).
 * Slow and big, but it works anywhere.
 */
import { existsSync, lstatSync, readlinkSync, type Stats } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Change, Mount, Snapshotter } from './index.js';
import { diffTarFrom, type DiffEntry } from './difftar.js';
import { isWhiteout, opaqueDirs, walkTree } from './walk.js';
import { duBytes, readMeta, SnapshotDirs } from './meta.js';

const run = promisify(execFile);

export class VfsSnapshotter extends SnapshotDirs implements Snapshotter {
  readonly driver = 'vfs' as const;

  async prepare(key: string, parentChainId: string | undefined): Promise<Mount[]> {
    const dir = this.newDir(key);
    const fs = join(dir, 'fs');
    await mkdir(fs, { recursive: true, mode: 0o755 });
    try {
      if (parentChainId) {
        const lowers = (await this.layers.lowerDirs(parentChainId)).reverse();
        for (const layer of lowers) await applyLayerDir(layer, fs);
      }
      await this.writeMeta(dir, key, parentChainId);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    return this.mounts(key);
  }

  async mounts(key: string): Promise<Mount[]> {
    const dir = this.dir(key);
    await this.meta(key);
    return [{ type: 'bind', source: join(dir, 'fs'), options: ['rbind', 'rw'] }];
  }

  async usage(key: string): Promise<number> {
    return duBytes(join(this.dir(key), 'fs'));
  }

  async changes(key: string): Promise<Change[]> {
    return (await this.diff(key)).map((d) => ({ Path: `/${d.rel}`, Kind: d.kind === 'whiteout' ? 2 : d.added ? 1 : 0 }));
  }

  diffTar(key: string): Readable {
    return diffTarFrom(async function* (this: VfsSnapshotter) {
      for (const d of await this.diff(key)) yield d;
    }.bind(this));
  }

  /** Compares the snapshot with a fresh apply of its parent. */
  private async diff(key: string): Promise<Array<DiffEntry & { added?: boolean }>> {
    const dir = this.dir(key);
    const meta = await readMeta(dir, key);
    const base = join(dir, '.base');
    await rm(base, { recursive: true, force: true });
    await mkdir(base, { recursive: true });
    try {
      if (meta.parent) for (const layer of (await this.layers.lowerDirs(meta.parent)).reverse()) await applyLayerDir(layer, base);
      const fs = join(dir, 'fs');
      const out: Array<DiffEntry & { added?: boolean }> = [];
      for (const e of walkTree(fs)) {
        let old: Stats | undefined;
        try {
          old = lstatSync(join(base, e.rel));
        } catch {
          old = undefined;
        }
        if (!old) out.push({ rel: e.rel, abs: e.abs, st: e.st, kind: 'entry', added: true });
        else if (differs(old, e.st, join(base, e.rel), e.abs)) out.push({ rel: e.rel, abs: e.abs, st: e.st, kind: 'entry' });
      }
      for (const e of walkTree(base)) {
        if (!existsPath(join(fs, e.rel))) {
          const parentGone = out.some((o) => o.kind === 'whiteout' && e.rel.startsWith(`${o.rel}/`));
          if (!parentGone) out.push({ rel: e.rel, kind: 'whiteout' });
        }
      }
      return out.sort((a, b) => (a.rel < b.rel ? -1 : 1));
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  }
}

function existsPath(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function differs(a: Stats, b: Stats, pa: string, pb: string): boolean {
  if ((a.mode & 0o177777) !== (b.mode & 0o177777) || a.uid !== b.uid || a.gid !== b.gid) return true;
  if (a.isDirectory()) return a.mtimeMs !== b.mtimeMs;
  if (a.isSymbolicLink()) return readlinkSync(pa) !== readlinkSync(pb);
  return a.size !== b.size || a.mtimeMs !== b.mtimeMs;
}

/** Applies one overlay-form layer dir onto a plain directory tree. */
async function applyLayerDir(layer: string, target: string): Promise<void> {
  const entries = [...walkTree(layer)];
  for (const rel of await opaqueDirs(entries)) {
    const t = join(target, rel);
    if (existsSync(t)) for (const name of await readdir(t)) await rm(join(t, name), { recursive: true, force: true });
  }
  const whiteouts = entries.filter((e) => isWhiteout(e.st)).map((e) => e.rel);
  for (const rel of whiteouts) await rm(join(target, rel), { recursive: true, force: true });
  // cp -a keeps ownership, modes, times, links, devices and xattrs.
  await run('cp', ['-a', '--no-target-directory', `${layer}/.`, target]);
  for (const rel of whiteouts) await rm(join(target, rel), { force: true });
}
