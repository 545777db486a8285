import { open, rename, mkdir, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Write a file so that readers see the old content or the new one, never a part:
 * temp file in the same directory, fsync, rename, then fsync the directory.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
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
