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
  chmodSync, mkdirSync, openSync, rmSync, symlinkSync, writeSync, type Stats,
} from 'node:fs';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { tarStream } from './tarlib.js';
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
  const clear = (rel: string, abs: string, keepDir: boolean) => {
    const st = lstatOrNull(abs);
    if (!st) return;
    if (keepDir && st.isDirectory()) return;
    rmSync(abs, { recursive: true, force: true });
    symlinks.delete(rel);
  };

  const tar = await tarStream();
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    // Destroying the extractor errors the current entry stream too: the pipeline reports it.
    stream.on('error', () => undefined);
    const fail = (err: unknown) => {
      stream.resume();
      extract.destroy(err as Error);
    };
    try {
      const parts = entryParts(header.name, what);
      if (parts.length === 0) {
        dirs.set('', { path: dest, mode: header.mode ?? 0o755, uid: header.uid ?? 0, gid: header.gid ?? 0, mtime: header.mtime ?? new Date(0) });
        stream.resume();
        stream.on('end', next);
        return;
      }
      checkNoSymlinkOnTheWay(parts, header.name);
      const rel = parts.join('/');
      const abs = join(dest, rel);
      const parent = join(dest, ...parts.slice(0, -1));
      const base = parts[parts.length - 1];
      mkdirSync(parent, { recursive: true });
      const mtime = header.mtime ?? new Date(0);
      const uid = header.uid ?? 0;
      const gid = header.gid ?? 0;
      const mode = (header.mode ?? 0o644) & 0o7777;

      if (base === OPAQUE) {
        ops.push({ op: 'setxattr', path: parent, name: 'trusted.overlay.opaque', value: Buffer.from('y') });
      } else if (base.startsWith(WHITEOUT)) {
        const target = join(parent, base.slice(WHITEOUT.length));
        if (!base.startsWith(`${WHITEOUT}${WHITEOUT}`)) {
          clear(rel, target, false);
          ops.push({ op: 'mknod', path: target, mode: S_IFCHR, major: 0, minor: 0 });
        }
      } else {
        switch (header.type) {
          case 'directory':
            clear(rel, abs, true);
            mkdirSync(abs, { recursive: true });
            dirs.set(rel, { path: abs, mode, uid, gid, mtime });
            break;
          case 'file':
          case 'contiguous-file': {
            clear(rel, abs, false);
            const fd = openSync(abs, 'wx', 0o600);
            stream.on('data', (chunk: unknown) => {
              try {
                writeSync(fd, chunk as Buffer);
              } catch (err) {
                closeSync(fd);
                fail(err);
              }
            });
            stream.on('end', () => {
              try {
                fchownSync(fd, uid, gid);
                fchmodSync(fd, mode);
                futimesSync(fd, mtime, mtime);
                closeSync(fd);
                size += header.size ?? 0;
                xattrOps(header.pax as Record<string, string> | undefined, abs, ops);
                next();
              } catch (err) {
                fail(err);
              }
            });
            return;
          }
          case 'symlink':
            clear(rel, abs, false);
            symlinkSync(header.linkname ?? '', abs);
            lchownSync(abs, uid, gid);
            lutimesSync(abs, mtime, mtime);
            symlinks.add(rel);
            break;
          case 'link': {
            const targetParts = entryParts(header.linkname ?? '', what);
            checkNoSymlinkOnTheWay([...targetParts, ''], `${header.name} -> ${header.linkname}`);
            const target = join(dest, ...targetParts);
            if (!lstatOrNull(target)) {
              throw new InvalidArgumentError(`${what}: hardlink "${header.name}" points to "${header.linkname}", which is not earlier in this layer`);
            }
            clear(rel, abs, false);
            linkSync(target, abs);
            break;
          }
          case 'character-device':
          case 'block-device':
          case 'fifo': {
            clear(rel, abs, false);
            const type = header.type === 'fifo' ? S_IFIFO : header.type === 'block-device' ? S_IFBLK : S_IFCHR;
            ops.push({ op: 'mknod', path: abs, mode: type | mode, major: header.devmajor ?? 0, minor: header.devminor ?? 0 });
            specials.push({ path: abs, uid, gid, mtime });
            break;
          }
          default:
            // pax/gnu long-name headers are consumed by tar-stream; anything else has no meaning in a layer.
            break;
        }
        if (header.type !== 'symlink') xattrOps(header.pax as Record<string, string> | undefined, abs, ops);
      }
      stream.resume();
      stream.on('end', next);
    } catch (err) {
      fail(err);
    }
  });

  const tap = new Transform({
    transform(chunk: Buffer, _e, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(input, autoDecompress(), tap, extract);
  } catch (err) {
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
    lchownSync(d.path, d.uid, d.gid);
    chmodSync(d.path, d.mode);
    lutimesSync(d.path, d.mtime, d.mtime);
  }
  return { diffId: `sha256:${hash.digest('hex')}`, size };
}

function xattrOps(pax: Record<string, string> | null | undefined, path: string, ops: FsOp[]): void {
  if (!pax) return;
  for (const [k, v] of Object.entries(pax)) {
    if (k.startsWith('SCHILY.xattr.')) ops.push({ op: 'setxattr', path, name: k.slice('SCHILY.xattr.'.length), value: Buffer.from(v, 'utf8') });
    else if (k.startsWith('LIBARCHIVE.xattr.')) ops.push({ op: 'setxattr', path, name: decodeURIComponent(k.slice('LIBARCHIVE.xattr.'.length)), value: Buffer.from(v, 'base64') });
  }
}
