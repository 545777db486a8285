/**
 * COPY and ADD: sources found in the context (or another stage's rootfs) with
 * globs, never outside it; a checksum of what will be copied (paths, modes,
 * ownership, bytes, link targets; not mtimes) for the cache key; then the copy
 * into the step's rootfs, every destination resolved inside that root.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { chmod, chown, copyFile, lchown, lstat, mkdir, readdir, readlink, rm, stat, symlink, utimes, lutimes } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import { resolveInRoot, type Confined } from '../containers/safepath.js';
import { resolveUser } from '../runtime/user.js';

export interface Source {
  /** The source as written (for messages). */
  given: string;
  /** Host path of the resolved source. */
  host: string;
  isDir: boolean;
}

export interface Owner { uid: number; gid: number }

const GLOB = /[*?[]/;

function outside(given: string, why = ''): Error {
  return new InvalidArgumentError(`forbidden path outside the build context: ${given}${why ? ` (${why})` : ''}`);
}

/** A context source: symlinks and `..` that lead out of the context are refused, not taken from its root. */
const inContext = (given: string): Confined => ({ given, outside: (why) => outside(given, why) });

function globRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) throw new InvalidArgumentError(`syntax error in pattern ${pattern}`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = '!' + cls.slice(1);
      re += '[' + (cls.startsWith('!') ? '^' + cls.slice(1) : cls).replace(/\\/g, '\\\\') + ']';
      i = end;
    } else if (c === '\\' && i + 1 < pattern.length) re += '\\' + pattern[++i];
    else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  try {
    return new RegExp(`^${re}$`);
  } catch {
    // A class such as [z-a]: Go's filepath.Match calls it a bad pattern too.
    throw new InvalidArgumentError(`syntax error in pattern ${pattern}`);
  }
}

async function walk(root: string, rel: string, out: string[]): Promise<void> {
  for (const name of (await readdir(join(root, rel))).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    out.push(r);
    if ((await lstat(join(root, r))).isDirectory()) await walk(root, r, out);
  }
}

/**
 * The sources of a COPY/ADD. `fromContext`: paths are context-relative and must stay in
 * it (`..`, absolute paths and symlinks out are refused); otherwise `root` is another
 * stage's or image's rootfs and paths resolve inside it as a container would see them.
 */
export async function findSources(root: string, srcs: string[], fromContext: boolean, keyword: string): Promise<Source[]> {
  const out: Source[] = [];
  for (const given of srcs) {
    if (fromContext) {
      if (given.startsWith('/')) throw new InvalidArgumentError(`${keyword} ${given}: absolute source paths are refused: sources are relative to the build context`);
      const norm = posix.normalize(given);
      if (norm === '..' || norm.startsWith('../')) throw outside(given);
    }
    const rel = posix.normalize('/' + given).slice(1);
    if (GLOB.test(rel)) {
      const all: string[] = [];
      await walk(root, '', all);
      const re = globRegex(rel.replace(/\/$/, ''));
      const hits = all.filter((p) => re.test(p));
      if (!hits.length) throw new NotFoundError(`${keyword} failed: no source files were specified by ${given}`);
      for (const h of hits) {
        const host = resolveInRoot(root, h, true, fromContext ? inContext(given) : undefined);
        out.push({ given: h, host, isDir: await isDir(host, given) });
      }
      continue;
    }
    const host = resolveInRoot(root, rel, true, fromContext ? inContext(given) : undefined);
    out.push({ given, host, isDir: await isDir(host, given) });
  }
  return out;
}

async function isDir(host: string, given: string): Promise<boolean> {
  try {
    return (await stat(host)).isDirectory();
  } catch {
    throw new NotFoundError(`file not found in build context or excluded by .dockerignore: stat ${given}: file does not exist`);
  }
}

/** --chown: "user[:group]" names resolved in the target rootfs, numbers as they are; a lone uid is also the gid. */
export function parseChown(spec: string | undefined, rootfs: string): Owner | undefined {
  if (!spec) return undefined;
  const [u, g] = spec.split(':');
  const resolved = resolveUser(rootfs, g === undefined ? u : `${u}:${g}`);
  if (g === undefined && /^\d+$/.test(u)) return { uid: resolved.uid, gid: resolved.uid };
  return { uid: resolved.uid, gid: resolved.gid };
}

export function parseChmod(spec: string | undefined): number | undefined {
  if (!spec) return undefined;
  if (!/^[0-7]{3,4}$/.test(spec)) throw new InvalidArgumentError(`--chmod=${spec}: give an octal mode such as 755`);
  return parseInt(spec, 8);
}

/** What the cache keys on: each file's path (relative to its source), type, mode, owner, bytes or link. */
export async function checksum(sources: Source[], owner: Owner | undefined, mode: number | undefined): Promise<string> {
  const h = createHash('sha256');
  const add = async (host: string, rel: string) => {
    const st = await lstat(host);
    const m = mode ?? (st.mode & 0o7777);
    const o = owner ? `${owner.uid}:${owner.gid}` : '0:0';
    if (st.isSymbolicLink()) {
      h.update(`L ${rel} ${o} ${await readlink(host)}\0`);
    } else if (st.isDirectory()) {
      h.update(`D ${rel} ${m.toString(8)} ${o}\0`);
      for (const name of (await readdir(host)).sort()) await add(join(host, name), `${rel}/${name}`);
    } else if (st.isFile()) {
      h.update(`F ${rel} ${m.toString(8)} ${o} ${st.size}\0`);
      await hashFile(h, host, st.size);
    }
  };
  for (const s of sources) {
    h.update(`S ${s.given}\0`);
    // The source itself is followed (it may be a symlink); what is inside a directory is not.
    const st = await stat(s.host);
    if (st.isDirectory()) {
      for (const name of (await readdir(s.host)).sort()) await add(join(s.host, name), name);
    } else {
      h.update(`F ${basename(s.given)} ${(mode ?? (st.mode & 0o7777)).toString(8)} ${owner ? `${owner.uid}:${owner.gid}` : '0:0'} ${st.size}\0`);
      await hashFile(h, s.host, st.size);
    }
  }
  return h.digest('hex');
}

async function hashFile(h: import('node:crypto').Hash, path: string, size: number): Promise<void> {
  if (size < 1 << 20) {
    h.update(readFileSync(path));
    return;
  }
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
}

/** Makes the directories of `dest` inside `root` (new ones owned by `owner`), answering its host path. */
export async function mkdirInRoot(root: string, dest: string, owner: Owner | undefined): Promise<string> {
  const parts = posix.normalize('/' + dest).split('/').filter(Boolean);
  let cur = '/';
  for (const p of parts) {
    cur = posix.join(cur, p);
    const host = resolveInRoot(root, cur, true);
    try {
      const st = await stat(host);
      if (!st.isDirectory()) throw new InvalidArgumentError(`cannot copy to ${dest}: ${cur} is not a directory in the image`);
    } catch (err) {
      if (err instanceof InvalidArgumentError) throw err;
      await mkdir(host, { mode: 0o755 });
      if (owner) await chown(host, owner.uid, owner.gid);
    }
  }
  return resolveInRoot(root, dest, true);
}

/** Copies `src` (file, dir contents, or symlink when `followTop` is false) to `destHost`. */
export async function copyEntry(src: string, destHost: string, owner: Owner | undefined, mode: number | undefined, followTop: boolean): Promise<void> {
  const st = followTop ? await stat(src) : await lstat(src);
  const o = owner ?? { uid: 0, gid: 0 };
  if (st.isSymbolicLink()) {
    if ((await lstat(destHost).catch(() => undefined))?.isDirectory()) throw new InvalidArgumentError(`cannot overwrite directory ${destHost} with a symbolic link`);
    await rm(destHost, { force: true });
    await symlink(await readlink(src), destHost);
    await lchown(destHost, o.uid, o.gid);
    await lutimes(destHost, st.atime, st.mtime).catch(() => undefined);
    return;
  }
  if (st.isDirectory()) {
    let exists = false;
    try {
      exists = (await lstat(destHost)).isDirectory();
    } catch { /* created below */ }
    if (!exists) {
      await rm(destHost, { force: true });
      await mkdir(destHost);
    }
    for (const name of await readdir(src)) await copyEntry(join(src, name), join(destHost, name), owner, mode, false);
    await chown(destHost, o.uid, o.gid);
    await chmod(destHost, mode ?? (st.mode & 0o7777));
    await utimes(destHost, st.atime, st.mtime);
    return;
  }
  if (!st.isFile()) return;
  await mkdir(dirname(destHost), { recursive: true });
  try {
    if ((await lstat(destHost)).isDirectory()) throw new InvalidArgumentError(`cannot overwrite directory ${destHost} with a file`);
    await rm(destHost, { force: true });
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err;
  }
  await copyFile(src, destHost);
  await chown(destHost, o.uid, o.gid);
  await chmod(destHost, mode ?? (st.mode & 0o7777));
  await utimes(destHost, st.atime, st.mtime);
}
