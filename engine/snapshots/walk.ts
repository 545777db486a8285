/** Depth-first walk of a directory tree without following symlinks. */
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { listXattrs } from '../images/fsops.js';

export interface WalkEntry {
  /** Relative to the root, no leading slash. */
  rel: string;
  abs: string;
  st: Stats;
}

/** Parents come before their children; names sorted for stable output. */
export function* walkTree(root: string, rel = ''): Generator<WalkEntry> {
  const dir = rel ? join(root, rel) : root;
  for (const name of readdirSync(dir).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const abs = join(root, r);
    const st = lstatSync(abs);
    yield { rel: r, abs, st };
    if (st.isDirectory()) yield* walkTree(root, r);
  }
}

export function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/** The rel paths of the directories among `entries` that overlayfs marks opaque. */
export async function opaqueDirs(entries: WalkEntry[]): Promise<Set<string>> {
  const dirs = entries.filter((e) => e.st.isDirectory());
  const xattrs = await listXattrs(dirs.map((d) => d.abs));
  return new Set(dirs.filter((_, i) => xattrs[i]['trusted.overlay.opaque']?.toString() === 'y').map((d) => d.rel));
}
