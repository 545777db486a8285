/**
 * One berthd per data-root. The lock file holds the owner's pid and stays open
 * in that process; a lock is live only when that pid still holds the file open,
 * so a kill -9 leaves a lock the next start can take over (pid reuse included).
 */
import { closeSync, fsyncSync, openSync, readFileSync, readdirSync, readlinkSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { UnavailableError } from './errors.js';

export interface DataRootLock {
  release(): void;
}

export function lockDataRoot(dataRoot: string): DataRootLock {
  const path = join(dataRoot, 'berthd.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = liveOwner(path);
      if (owner !== undefined) {
        throw new UnavailableError(`data-root ${dataRoot} is in use by berthd pid ${owner}: stop it or choose another --data-root`);
      }
      try {
        unlinkSync(path);
      } catch {
        // Another starter removed the stale lock first; retry the create.
      }
      continue;
    }
    writeSync(fd, `${process.pid}\n`);
    fsyncSync(fd);
    const held = fd;
    return {
      release: () => {
        try {
          unlinkSync(path);
        } finally {
          closeSync(held);
        }
      },
    };
  }
  throw new UnavailableError(`data-root ${dataRoot}: could not take ${path}, another berthd is starting`);
}

function liveOwner(path: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(path, 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  let ino: number;
  try {
    ino = statSync(path).ino;
  } catch {
    return undefined;
  }
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (target === path && statSync(`/proc/${pid}/fd/${fd}`).ino === ino) return pid;
      } catch {
        // fd closed while we looked: not the lock.
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}
