/** Atomic metadata writes: temp file in the same directory, fsync, rename, fsync dir. */
import { close, closeSync, fsync, fsyncSync, mkdirSync, open, openSync, rename, renameSync, writeFile, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';

let seq = 0;
function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${++seq}.tmp`);
}

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempName(path);
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDirSync(dirname(path));
}

/** fs's callback API: no FileHandle objects, whose open/close cost more than the syscalls. */
function cb<T>(call: (done: (err: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => call((err, value) => (err ? reject(err) : resolve(value as T))));
}

async function syncFd(fd: number): Promise<void> {
  try {
    await cb<void>((done) => fsync(fd, done));
  } finally {
    await cb<void>((done) => close(fd, done));
  }
}

/**
 * `durable: false` for files under exec-root (tmpfs on a host, cleared at boot): the
 * rename alone keeps them whole when berthd dies; fsync would only guard against
 * a power loss, which takes what they describe (namespaces, processes) along.
 */
export async function writeFileAtomicAsync(path: string, data: string | Uint8Array, { durable = true } = {}): Promise<void> {
  const tmp = tempName(path);
  const fd = await cb<number>((done) => open(tmp, 'w', 0o644, done)).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
    await mkdir(dirname(path), { recursive: true });
    return cb<number>((done) => open(tmp, 'w', 0o644, done));
  });
  try {
    await cb<void>((done) => writeFile(fd, data, (err) => done(err)));
  } catch (err) {
    await cb<void>((done) => close(fd, done)).catch(() => undefined);
    throw err;
  }
  if (durable) await syncFd(fd);
  else await cb<void>((done) => close(fd, done));
  await cb<void>((done) => rename(tmp, path, done));
  if (durable) await syncFd(await cb<number>((done) => open(dirname(path), 'r', done)));
}

export function writeJsonAtomic(path: string, value: unknown, opts: { durable?: boolean } = {}): Promise<void> {
  return writeFileAtomicAsync(path, JSON.stringify(value, null, 1), opts);
}

function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
