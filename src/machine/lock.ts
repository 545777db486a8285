import { open, readFile, unlink, mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LockedError } from './errors.js';
import { writerRuns } from './pid.js';

/**
 * A lock file held by this process (O_EXCL create, our pid inside). A lock whose
 * pid no longer runs is stale and taken over, so a kill -9 never blocks a machine.
 */
export async function withLock<T>(path: string, what: string, fn: () => Promise<T>, waitMs = 120_000): Promise<T> {
  await mkdir(dirname(path), { recursive: true });
  const deadline = Date.now() + waitMs;
  let delay = 20;
  for (;;) {
    try {
      const fh = await open(path, 'wx', 0o600);
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      // An empty file is a lock being written right now: only its age makes it stale.
      const stale = holder ? !writerRuns(holder, path) : await olderThan(path, 2000);
      if (stale) {
        await unlink(path).catch(() => undefined); // another waiter may have removed it first
        continue;
      }
      if (Date.now() > deadline) {
        throw new LockedError(`${what} is locked by process ${holder}`, { hint: `wait for it to finish, or remove ${path} if that process is gone` });
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 250);
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(path).catch(() => undefined); // already gone only if someone forced it: nothing to undo
  }
}

/** Removes the lock file when its holder is dead (a kill -9 inside withLock); true when it did. */
export async function removeStaleLock(path: string): Promise<boolean> {
  const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
  const stale = holder ? !writerRuns(holder, path) : await olderThan(path, 2000);
  if (stale) await unlink(path).catch(() => undefined); // another process may have cleared it first
  return stale;
}

async function olderThan(path: string, ms: number): Promise<boolean> {
  const st = await stat(path).catch(() => null);
  return st !== null && Date.now() - st.mtimeMs > ms;
}
