import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../errors.js';
import { writeJsonAtomic } from '../fsutil.js';
import type { LayerDirs } from '../images/layers.js';
import { removeTree } from '../runtime/spawner.js';

export interface SnapshotMeta {
  key: string;
  parent?: string;
  driver: 'overlay2' | 'vfs';
}

const KEY = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

export function checkKey(key: string): string {
  if (!KEY.test(key)) throw new InvalidArgumentError(`invalid snapshot key ${JSON.stringify(key)}: use letters, digits, . _ -`);
  return key;
}

export async function readMeta(dir: string, key: string): Promise<SnapshotMeta> {
  try {
    return JSON.parse(await readFile(join(dir, 'snapshot.json'), 'utf8')) as SnapshotMeta;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`snapshot ${key} not found`);
    throw err;
  }
}

const run = promisify(execFile);

/** Disk usage in bytes (du -sb semantics: apparent sizes). */
export async function duBytes(path: string): Promise<number> {
  try {
    const { stdout } = await run('du', ['-sb', path]);
    return Number(stdout.split('\t')[0]) || 0;
  } catch {
    return 0;
  }
}

/** What both snapshotters share: one directory per snapshot key under root, with a snapshot.json. */
export abstract class SnapshotDirs {
  abstract readonly driver: SnapshotMeta['driver'];

  /** Snapshots' metadata, as written by prepare or first read (it never changes). */
  private readonly metas = new Map<string, SnapshotMeta>();

  constructor(protected readonly root: string, protected readonly layers: LayerDirs) {}

  protected async meta(key: string): Promise<SnapshotMeta> {
    const known = this.metas.get(key);
    if (known) return known;
    const meta = await readMeta(this.dir(key), key);
    this.metas.set(key, meta);
    return meta;
  }

  protected dir(key: string): string {
    return join(this.root, checkKey(key));
  }

  /** The directory of a snapshot about to be prepared (ConflictError if `key` exists). */
  protected newDir(key: string): string {
    const dir = this.dir(key);
    if (existsSync(dir)) throw new ConflictError(`snapshot ${key} already exists`);
    return dir;
  }

  /** Written last by prepare: a snapshot exists once its snapshot.json does. */
  protected async writeMeta(dir: string, key: string, parent: string | undefined): Promise<void> {
    const meta: SnapshotMeta = { key, parent, driver: this.driver };
    await writeJsonAtomic(join(dir, 'snapshot.json'), meta);
    this.metas.set(key, meta);
  }

  async remove(key: string): Promise<void> {
    const dir = this.dir(key);
    this.metas.delete(key);
    if (!existsSync(dir)) throw new NotFoundError(`snapshot ${key} not found`);
    await removeTree(dir);
  }

  async list(): Promise<string[]> {
    return (await readdir(this.root)).filter((n) => existsSync(join(this.root, n, 'snapshot.json')));
  }
}
