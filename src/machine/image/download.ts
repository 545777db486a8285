import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import { ProvisionError, reason } from '../errors.js';

/**
 * An image URL (--qemu-image, --virtualbox-image) fetched once into `dir`, named by
 * the URL's hash. It lands under a temporary name, renamed when whole; a failed or
 * interrupted download leaves nothing that a later run could take for the image.
 */
export async function downloadOnce(url: string, dir: string, flag: string): Promise<string> {
  const name = `${createHash('sha256').update(url).digest('hex').slice(0, 16)}-${basename(new URL(url).pathname) || 'image'}`;
  const dest = join(dir, name);
  if (await stat(dest).then(() => true, () => false)) return dest;
  await mkdir(dir, { recursive: true });
  const tmp = `${dest}.${process.pid}.part`;
  try {
    const res = await fetch(url);
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
    await pipeline(Readable.fromWeb(res.body as ReadableStream), createWriteStream(tmp));
    await rename(tmp, dest);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new ProvisionError(`downloading ${flag} ${url} failed: ${reason(err)}`, { hint: `check the URL, or download it yourself and pass ${flag} PATH` });
  }
  return dest;
}
