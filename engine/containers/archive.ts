/**
 * docker cp: stat and tar a path inside a container, and extract a tar into one.
 * Every path is resolved inside the container's root; entries that would land
 * outside it (`../`, symlinks out) are refused before anything is written.
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { chown, link, lstat, mkdir, rm, stat, symlink, unlink, utimes, chmod } from 'node:fs/promises';
import { basename, dirname, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type tar from 'tar-stream';
import { tarStream } from '../images/tarlib.js';
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import { resolveInRoot } from './safepath.js';

export interface PathStat { name: string; size: number; mode: number; mtime: string; linkTarget: string }

const GO_DIR = 0x80000000;
const GO_SYMLINK = 0x08000000;

export async function statInRoot(root: string, path: string): Promise<{ host: string; stat: PathStat }> {
  const host = resolveInRoot(root, path, false);
  let st;
  try {
    st = await lstat(host);
  } catch {
    throw new NotFoundError(`Could not find the file ${path} in container`);
  }
  let linkTarget = '';
  if (st.isSymbolicLink()) {
    const { readlink } = await import('node:fs/promises');
    linkTarget = await readlink(host);
  }
  // Addition, not |: JS bit operators are signed 32-bit and would make GO_DIR negative.
  const mode = (st.mode & 0o777) + (st.isDirectory() ? GO_DIR : 0) + (st.isSymbolicLink() ? GO_SYMLINK : 0);
  return { host, stat: { name: basename(path) || '/', size: st.size, mode, mtime: st.mtime.toISOString(), linkTarget } };
}

export function statHeader(stat: PathStat): string {
  return Buffer.from(JSON.stringify(stat)).toString('base64');
}

/** A tar of `host` (file or dir) named by its basename, like docker's archive. */
export function tarPath(host: string): Readable {
  const child = spawn('tar', ['--numeric-owner', '-C', dirname(host), '-cf', '-', basename(host)], { stdio: ['ignore', 'pipe', 'ignore'] });
  return child.stdout;
}

export function tarDir(dir: string): Readable {
  const child = spawn('tar', ['--numeric-owner', '-C', dir, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'ignore'] });
  return child.stdout;
}

function entryPath(name: string): string {
  if (name.includes('\0')) throw new InvalidArgumentError(`invalid tar entry ${JSON.stringify(name)}: a NUL byte in the name`);
  const clean = posix.normalize(name).replace(/^\.\//, '');
  if (clean === '..' || clean.startsWith('../') || clean.includes('/../')) {
    throw new InvalidArgumentError(`invalid tar entry ${JSON.stringify(name)}: it points outside the destination directory`);
  }
  const rel = clean.replace(/^\/+/, '');
  return rel === '.' ? '' : rel; // the destination itself
}

async function forEachEntry(file: string, fn: (h: tar.Header, body: Readable) => Promise<void>): Promise<void> {
  // Loaded on first use: tar-stream costs an idle daemon ~5 MB of RSS.
  const ex = (await tarStream()).extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, stream, next) => {
      // 'end' is listened to first: fn may consume the whole entry itself.
      let ended = false;
      stream.once('end', () => { ended = true; });
      fn(h, stream as unknown as Readable).then(() => {
        if (ended) next();
        else { stream.once('end', () => next()); stream.resume(); }
      }, (err) => { stream.resume(); ex.destroy(err); reject(err); });
    });
    ex.on('finish', resolve);
    // fn's errors were passed on above; what arrives here alone is the parser's.
    ex.on('error', (err) => reject(new InvalidArgumentError(`the archive is not a valid tar stream: ${err.message}`)));
  });
  createReadStream(file).pipe(ex);
  await done;
}

/** Checks every entry first (spooled to `spool`), then extracts into `dest` inside `root`. */
export async function extractInto(root: string, dest: string, body: Readable, spool: string): Promise<void> {
  await mkdir(dirname(spool), { recursive: true });
  await pipeline(body, createWriteStream(spool));
  try {
    const destHost = resolveInRoot(root, dest, true);
    let st;
    try {
      // stat: the root itself may be /proc/<pid>/root, a magic link.
      st = await stat(destHost);
    } catch {
      throw new NotFoundError(`Could not find the file ${dest} in container`);
    }
    if (!st.isDirectory()) throw new InvalidArgumentError(`extraction point is not a directory: ${dest}`);
    const destInRoot = destHost.slice(root.length) || '/';
    await forEachEntry(spool, async (h) => {
      const rel = entryPath(h.name);
      if (h.type === 'link' && h.linkname) entryPath(h.linkname);
      if (h.linkname?.includes('\0')) throw new InvalidArgumentError(`invalid link target in ${JSON.stringify(h.name)}: a NUL byte`);
      if (h.type === 'symlink' && h.linkname && !h.linkname.startsWith('/')) {
        // docker refuses relative links that climb out of the extraction directory.
        const resolved = posix.normalize(posix.join(posix.dirname(rel), h.linkname));
        if (resolved === '..' || resolved.startsWith('../')) {
          throw new InvalidArgumentError(`invalid symlink ${JSON.stringify(h.name)} -> ${JSON.stringify(h.linkname)}: it points outside the destination directory`);
        }
      }
    });
    await forEachEntry(spool, (h, stream) => extractEntry(root, destInRoot, h, stream).catch((err: NodeJS.ErrnoException) => {
      // The entry doesn't fit what is in the container (a file where it needs a directory, …).
      if (typeof err?.code === 'string' && err.syscall) throw new InvalidArgumentError(`cannot extract ${JSON.stringify(h.name)} into the container: ${err.code}`);
      throw err;
    }));
  } finally {
    await rm(spool, { force: true });
  }
}

async function extractEntry(root: string, destInRoot: string, h: tar.Header, stream: Readable): Promise<void> {
  const rel = entryPath(h.name);
  if (!rel) return;
  const target = resolveInRoot(root, posix.join(destInRoot, rel), false);
  await mkdir(dirname(target), { recursive: true });
  const mode = (h.mode ?? 0o644) & 0o7777;
  switch (h.type) {
    case 'directory':
      await mkdir(target, { recursive: true, mode });
      await chmod(target, mode);
      break;
    case 'file':
    case 'contiguous-file': {
      await rm(target, { force: true, recursive: false }).catch(() => undefined);
      await pipeline(stream, createWriteStream(target, { mode }));
      await chmod(target, mode);
      break;
    }
    case 'symlink':
      await unlink(target).catch(() => undefined);
      await symlink(h.linkname ?? '', target);
      break;
    case 'link': {
      const src = resolveInRoot(root, posix.join(destInRoot, entryPath(h.linkname ?? '')), false);
      await unlink(target).catch(() => undefined);
      await link(src, target).catch((err: NodeJS.ErrnoException) => {
        throw new InvalidArgumentError(`invalid hard link ${JSON.stringify(h.name)} -> ${JSON.stringify(h.linkname)}: ${err.code === 'ENOENT' ? 'its target is neither in the archive nor in the container' : err.code}`);
      });
      break;
    }
    default:
      // Devices, fifos and the like are skipped, as an unprivileged copy would.
      return;
  }
  if (h.type !== 'symlink') {
    await chown(target, h.uid ?? 0, h.gid ?? 0).catch(() => undefined);
    if (h.mtime) await utimes(target, h.mtime, h.mtime).catch(() => undefined);
  }
}
