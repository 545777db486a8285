/**
 * Unpacks one layer tar into an empty directory, in overlayfs form: `.wh.NAME`
 * becomes a 0/0 character device, `.wh..wh..opq` sets trusted.overlay.opaque=y
 * on its directory. Ownership, modes, mtimes, hardlinks, symlinks, device nodes
 * and xattrs are kept. An entry that would land outside the directory (`..`,
 * absolute paths, a path through a symlink of the layer) is refused, naming it.
 *
 * File operations are synchronous per entry (each is microseconds) while the
 * tar streams in, which keeps unpack near `tar -x` speed.
 */
import { createHash } from 'node:crypto';
import {
  closeSync, fchmodSync, fchownSync, futimesSync, linkSync, lchownSync, lstatSync, lutimesSync,
  chmodSync, mkdirSync, openSync, readFileSync, rmSync, symlinkSync, writeSync, type Stats,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { open } from 'node:fs/promises';
import { NEEDS_BARRIER, readTar, type EntrySink, type TarHeader } from './tarparse.js';
import { InvalidArgumentError } from '../errors.js';
import { autoDecompress } from './decompress.js';
import { applyFsOps, type FsOp } from './fsops.js';

export interface UnpackResult {
  /** sha256 of the uncompressed tar. */
  diffId: string;
  /** Bytes of file content. */
  size: number;
}

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

const EUID = process.geteuid?.() ?? 0;
const EGID = process.getegid?.() ?? 0;
/** The process umask, read without changing it (process.umask() with no argument is deprecated). */
const UMASK = (() => {
  try {
    const m = /^Umask:\s+([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return parseInt(m[1], 8);
  } catch {
    // No /proc: assume the common default.
  }
  return 0o022;
})();

const ASYNC_MAX_FILE = 1 << 20;
const MAX_INFLIGHT = 64;

async function writeSmallFile(abs: string, chunks: Buffer[], size: number, mode: number, uid: number, gid: number, mtime: Date): Promise<void> {
  const fh = await open(abs, 'wx', mode);
  try {
    let written = chunks.length ? (await fh.writev(chunks)).bytesWritten : 0;
    if (written < size) {
      // A short writev (rare on regular files): finish with plain writes.
      const all = Buffer.concat(chunks);
      while (written < size) written += (await fh.write(all, written, size - written, written)).bytesWritten;
    }
    if (uid !== EUID || gid !== EGID) await fh.chown(uid, gid);
    if ((mode & ~UMASK) !== mode || uid !== EUID || gid !== EGID) await fh.chmod(mode);
    await fh.utimes(mtime, mtime);
  } finally {
    await fh.close();
  }
}

/** Splits a tar entry name into safe components, or refuses it. */
export function entryParts(name: string, what: string): string[] {
  if (name.startsWith('/')) throw new InvalidArgumentError(`${what}: entry "${name}" is an absolute path: refused`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new InvalidArgumentError(`${what}: entry "${name}" would land outside the layer directory: refused`);
  return parts;
}

interface DirMeta {
  path: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
}

export async function unpackLayer(input: Readable, dest: string, what: string): Promise<UnpackResult> {
  mkdirSync(dest, { recursive: true });
  const hash = createHash('sha256');
  const symlinks = new Set<string>();
  const dirs = new Map<string, DirMeta>();
  const ops: FsOp[] = [];
  const specials: Array<{ path: string; uid: number; gid: number; mtime: Date }> = [];
  let size = 0;

  const checkNoSymlinkOnTheWay = (parts: string[], entry: string) => {
    let prefix = '';
    for (let i = 0; i < parts.length - 1; i++) {
      prefix = prefix ? `${prefix}/${parts[i]}` : parts[i];
      if (symlinks.has(prefix)) throw new InvalidArgumentError(`${what}: entry "${entry}" goes through the symlink "${prefix}" and could land outside the layer: refused`);
    }
  };
  const lstatOrNull = (p: string): Stats | null => {
    try {
      return lstatSync(p);
    } catch {
      return null;
    }
  };
  // The layer dir starts empty: only paths this layer made can exist, so most
  // entries need no lstat, and known directories no mkdir.
  const made = new Set<string>();
  const knownDirs = new Set<string>([dest]);
  const ensureDir = (abs: string) => {
    if (knownDirs.has(abs)) return;
    mkdirSync(abs, { recursive: true });
    // Parents made on the way count as made too (a later entry may replace one).
    for (let p = abs; !knownDirs.has(p); p = dirname(p)) knownDirs.add(p);
  };
  const clear = (rel: string, abs: string, keepDir: boolean) => {
    if (!made.has(rel) && !knownDirs.has(abs)) {
      made.add(rel);
      return;
    }
    // The caller makes rel anew, also where it replaces a directory made implicitly.
    made.add(rel);
    const st = lstatOrNull(abs);
    if (st && keepDir && st.isDirectory()) return;
    // Work still to do for what is replaced (its directory metadata, a whiteout's mknod,
    // xattrs) is dropped: applied at the end, it would land on the replacement, and
    // chmod follows a symlink that replaced a directory.
    const under = (p: string) => p === abs || p.startsWith(`${abs}/`);
    for (const k of [...dirs.keys()]) if (k === rel || k.startsWith(`${rel}/`)) dirs.delete(k);
    for (let i = ops.length - 1; i >= 0; i--) if (under(ops[i].path)) ops.splice(i, 1);
    for (let i = specials.length - 1; i >= 0; i--) if (under(specials[i].path)) specials.splice(i, 1);
    if (!st) return;
    rmSync(abs, { recursive: true, force: true });
    for (const s of symlinks) if (s === rel || s.startsWith(`${rel}/`)) symlinks.delete(s);
    for (const d of knownDirs) if (d === abs || d.startsWith(`${abs}/`)) knownDirs.delete(d);
  };
  // Small files are written on the threadpool, many at once: creating files is
  // kernel work, and this spreads it over the cores. Entries that touch a path
  // made earlier in this layer wait for every write in flight (a barrier).
  const pending = new Map<string, Promise<void>>();
  let inflight = 0;
  let failure: unknown;
  const waiters: Array<() => void> = [];
  const hooks = {
    barrier: async () => {
      await Promise.allSettled([...pending.values()]);
      if (failure) throw failure;
    },
    afterChunk: async () => {
      while (inflight >= MAX_INFLIGHT) await new Promise<void>((r) => waiters.push(r));
      if (failure) throw failure;
    },
  };
  const touchesMade = (r: string, a: string) => made.has(r) || knownDirs.has(a);
  const xattrOps = (xattrs: Record<string, Buffer>, path: string) => {
    for (const [name, value] of Object.entries(xattrs)) ops.push({ op: 'setxattr', path, name, value });
  };

  const onEntry = (header: TarHeader): EntrySink | void | typeof NEEDS_BARRIER => {
    const parts = entryParts(header.name, what);
    const mtime = header.mtime;
    const { uid, gid, mode } = header;
    if (parts.length === 0) {
      dirs.set('', { path: dest, mode: mode || 0o755, uid, gid, mtime });
      return;
    }
    checkNoSymlinkOnTheWay(parts, header.name);
    const rel = parts.join('/');
    const abs = join(dest, rel);
    const parent = join(dest, ...parts.slice(0, -1));
    const base = parts[parts.length - 1];
    if (pending.size > 0) {
      const target = base.startsWith(WHITEOUT) ? [...parts.slice(0, -1), base.slice(WHITEOUT.length)].join('/') : rel;
      const parentPending = parts.slice(0, -1).some((_, i) => pending.has(parts.slice(0, i + 1).join('/'))); // a file being written where a directory must go
      if (parentPending || touchesMade(rel, abs) || touchesMade(target, join(dest, target)) || (header.type === 'link' && pending.has(entryParts(header.linkname, what).join('/')))) {
        return NEEDS_BARRIER;
      }
    }
    ensureDir(parent);

    if (base === OPAQUE) {
      ops.push({ op: 'setxattr', path: parent, name: 'trusted.overlay.opaque', value: Buffer.from('y') });
      return;
    }
    if (base.startsWith(WHITEOUT)) {
      if (!base.startsWith(`${WHITEOUT}${WHITEOUT}`)) {
        const name = base.slice(WHITEOUT.length);
        const target = join(parent, name);
        clear([...parts.slice(0, -1), name].join('/'), target, false);
        ops.push({ op: 'mknod', path: target, mode: S_IFCHR, major: 0, minor: 0 });
      }
      return;
    }
    switch (header.type) {
      case 'directory':
        clear(rel, abs, true);
        ensureDir(abs);
        dirs.set(rel, { path: abs, mode, uid, gid, mtime });
        xattrOps(header.xattrs, abs);
        return;
      case 'file': {
        clear(rel, abs, false);
        if (header.size <= ASYNC_MAX_FILE) {
          const chunks: Buffer[] = [];
          return {
            data: (chunk) => {
              chunks.push(chunk);
            },
            end: () => {
              size += header.size;
              xattrOps(header.xattrs, abs);
              inflight++;
              const p = writeSmallFile(abs, chunks, header.size, mode, uid, gid, mtime)
                .catch((err) => {
                  failure ??= err;
                })
                .finally(() => {
                  pending.delete(rel);
                  inflight--;
                  for (const w of waiters.splice(0)) w();
                });
              pending.set(rel, p);
            },
          };
        }
        const fd = openSync(abs, 'wx', mode);
        return {
          data: (chunk) => {
            writeSync(fd, chunk);
          },
          end: () => {
            // Creating is the dominant cost of unpack: skip calls that change nothing.
            if (uid !== EUID || gid !== EGID) fchownSync(fd, uid, gid);
            if ((mode & ~UMASK) !== mode || uid !== EUID || gid !== EGID) fchmodSync(fd, mode);
            futimesSync(fd, mtime, mtime);
            closeSync(fd);
            size += header.size;
            xattrOps(header.xattrs, abs);
          },
        };
      }
      case 'symlink':
        clear(rel, abs, false);
        symlinkSync(header.linkname, abs);
        if (uid !== EUID || gid !== EGID) lchownSync(abs, uid, gid);
        lutimesSync(abs, mtime, mtime);
        symlinks.add(rel);
        return;
      case 'link': {
        const targetParts = entryParts(header.linkname, what);
        checkNoSymlinkOnTheWay([...targetParts, ''], `${header.name} -> ${header.linkname}`);
        const target = join(dest, ...targetParts);
        if (!lstatOrNull(target)) {
          throw new InvalidArgumentError(`${what}: hardlink "${header.name}" points to "${header.linkname}", which is not earlier in this layer`);
        }
        clear(rel, abs, false);
        linkSync(target, abs);
        return;
      }
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        clear(rel, abs, false);
        const type = header.type === 'fifo' ? S_IFIFO : header.type === 'block-device' ? S_IFBLK : S_IFCHR;
        ops.push({ op: 'mknod', path: abs, mode: type | mode, major: header.devmajor, minor: header.devminor });
        specials.push({ path: abs, uid, gid, mtime });
        xattrOps(header.xattrs, abs);
        return;
      }
      default:
        // Volume labels, sparse-file maps and the like mean nothing in a layer.
        return;
    }
  };

  const decompressed = autoDecompress();
  input.on('error', (err) => decompressed.destroy(err));
  input.pipe(decompressed);
  async function* hashed(): AsyncIterable<Buffer> {
    for await (const chunk of decompressed) {
      hash.update(chunk as Buffer);
      yield chunk as Buffer;
    }
  }
  try {
    await readTar(hashed(), onEntry, hooks);
    await Promise.allSettled([...pending.values()]);
    if (failure) throw failure;
  } catch (err) {
    // Nothing may still be writing when the caller removes the partial layer.
    await Promise.allSettled([...pending.values()]);
    input.destroy(err as Error);
    decompressed.destroy();
    if (err instanceof InvalidArgumentError) throw err;
    throw new InvalidArgumentError(`${what}: cannot unpack: ${(err as Error).message}`, { cause: err });
  }
  await applyFsOps(ops);
  for (const s of specials) {
    lchownSync(s.path, s.uid, s.gid);
    lutimesSync(s.path, s.mtime, s.mtime);
  }
  // Directory metadata last, deepest first: writing inside a directory changes its mtime.
  for (const d of [...dirs.values()].sort((a, b) => b.path.length - a.path.length)) {
    if (d.uid !== EUID || d.gid !== EGID) lchownSync(d.path, d.uid, d.gid);
    if (d.mode !== (0o777 & ~UMASK) || d.uid !== EUID || d.gid !== EGID) chmodSync(d.path, d.mode);
    lutimesSync(d.path, d.mtime, d.mtime);
  }
  return { diffId: `sha256:${hash.digest('hex')}`, size };
}
