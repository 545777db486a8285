import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { InvalidArgumentError, NotFoundError } from '../errors.js';

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
