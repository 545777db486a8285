import { open, rename, mkdir, unlink, readdir } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writerRuns } from './pid.js';

/** `.NAME.PID.HEX.tmp`: the writer's pid tells a later writer whether the file is an orphan. */
const TEMP = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/**
 * Write a file so that readers see the old content or the new one, never a part:
 * temp file in the same directory, fsync, rename, then fsync the directory.
 * Temp files in that directory whose writer is dead (a kill -9 between open and
 * rename) are removed first, so the next write after a crash repairs the directory.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  await sweepOrphanTemps(dir);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.chmod(mode);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => undefined); // the write already failed; the temp file is garbage
    throw err;
  } finally {
    await fh.close().catch(() => undefined); // closing twice after the error path is harmless
  }
  await rename(tmp, path);
  const dh = await open(dir, 'r');
  try { await dh.sync(); } finally { await dh.close(); }
}

/** Removes the temp files of writers that no longer run; a live writer's (another command's) are kept. */
export async function sweepOrphanTemps(dir: string): Promise<void> {
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    const m = TEMP.exec(f);
    if (m && !writerRuns(Number(m[1]), join(dir, f))) await unlink(join(dir, f)).catch(() => undefined); // another sweeper got it first
  }
}
