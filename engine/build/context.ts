/**
 * The build context: the request body (a tar, plain or gzip/bzip2/xz compressed,
 * or a bare Dockerfile) unpacked into a directory of the build's own, with every
 * entry checked first-hand: names that climb out (`..`, absolute after cleaning),
 * hard links to outside, and more bytes than the configured limit are refused
 * before anything lands outside that directory. Symlinks are kept as they are:
 * a COPY source that resolves through one to outside the context is refused by
 * copy.ts.
 */
import { chmodSync, closeSync, linkSync, mkdirSync, openSync, rmSync, symlinkSync, utimesSync, writeSync } from 'node:fs';
import { chmod, lstat, mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { InvalidArgumentError } from '../errors.js';
import { readTar, type EntrySink, type TarHeader } from '../images/tarparse.js';
import { decompressed } from '../images/decompress.js';
import { resolveInRoot } from '../containers/safepath.js';
import { dockerignore, DockerignoreSyntaxError } from '../../src/common/dockerignore.js';

export interface BuildContext {
  dir: string;
  /** The Dockerfile's text. */
  dockerfile: string;
  /** Name of the Dockerfile inside the context ('' when it came alone). */
  dockerfileName: string;
}

function firstBytes(s: Readable, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= n) done();
    };
    const done = () => {
      s.off('data', onData);
      s.off('end', done);
      s.off('error', reject);
      s.pause();
      resolve(buf);
    };
    s.on('data', onData);
    s.once('end', done);
    s.once('error', reject);
  });
}

/** Counts bytes through; fails past `max`. */
function limited(max: number): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      n += chunk.length;
      if (n > max) return cb(new InvalidArgumentError(`the build context is larger than the engine's limit of ${max} bytes: shrink it with a .dockerignore, or raise berthd's --build-context-max`));
      cb(null, chunk);
    },
  });
}

function entryName(name: string): string {
  const clean = posix.normalize(name);
  if (clean.startsWith('/') || clean === '..' || clean.startsWith('../')) {
    throw new InvalidArgumentError(`the build context has an entry ${JSON.stringify(name)} that points outside the context: refused`);
  }
  return clean === '.' || clean === './' ? '' : clean.replace(/\/$/, '');
}

/** The build context as the errors of bzip2 and xz name it. */
export const CONTEXT = 'the build context';

/** A context up to this size is unpacked in memory (a tmpfs) when the engine has one: creating files on disk costs far more than the rest of a cached build. */
export const MEMORY_CONTEXT_MAX = 64 << 20;

/**
 * Reads the body into `dirs.memory` (small contexts, when given) or `dirs.disk`; answers
 * the Dockerfile (`dockerfile` inside, or the body itself when it is not a tar).
 */
export async function receiveContext(body: Readable, dirs: { disk: string; memory?: string }, dockerfile: string, maxBytes: number): Promise<BuildContext> {
  // A broken compressed stream fails the reads below; the request stays whole (destroyed, it would take the answer with it).
  const plain = limited(maxBytes);
  decompressed(body, CONTEXT).on('error', (e) => plain.destroy(e)).pipe(plain);
  const head = await firstBytes(plain, 512);
  const isTar = head.length >= 512 ? head.subarray(257, 262).toString('latin1') === 'ustar' : head.length === 0 || head.every((b) => b === 0);
  if (!isTar) {
    // `docker build - < Dockerfile`: the body is the Dockerfile, the context is empty.
    const chunks: Buffer[] = [head];
    plain.resume();
    for await (const c of plain) chunks.push(c as Buffer);
    await makeRoot(dirs.disk);
    return { dir: dirs.disk, dockerfile: Buffer.concat(chunks).toString('utf8'), dockerfileName: '' };
  }
  // Held in memory until it is known to be small (then a tmpfs takes it) or not.
  const held: Buffer[] = [head];
  let size = head.length;
  let ended = false;
  const it = plain[Symbol.asyncIterator]();
  while (size <= MEMORY_CONTEXT_MAX) {
    const r = await it.next();
    if (r.done) { ended = true; break; }
    held.push(r.value as Buffer);
    size += (r.value as Buffer).length;
  }
  const dir = ended && dirs.memory ? dirs.memory : dirs.disk;
  await makeRoot(dir);
  async function* all(): AsyncIterable<Buffer> {
    yield* held;
    if (ended) return;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value as Buffer;
  }
  await extract(Readable.from(all()), dir);
  const name = dockerfile || 'Dockerfile';
  const path = resolveInRoot(dir, name, true);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    if (!dockerfile) {
      try {
        text = await readFile(resolveInRoot(dir, 'dockerfile', true), 'utf8');
        return { dir, dockerfile: text, dockerfileName: 'dockerfile' };
      } catch { /* fall through to the error */ }
    }
    throw new InvalidArgumentError(`Cannot locate specified Dockerfile: ${name}`);
  }
  return { dir, dockerfile: text, dockerfileName: posix.normalize(name) };
}

/** Unpacks with the layer unpacker's tar reader: synchronous sinks, no stream per entry (a context is mostly small files). */
/** Creates `target` with `make`; an entry given twice replaces the first (never written through, were it a symlink). */
function createFresh<T>(target: string, make: (t: string) => T): T {
  try {
    return make(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    rmSync(target, { recursive: true, force: true });
    return make(target);
  }
}

async function makeRoot(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // The context root is what `COPY . /dst` gives /dst (its parent keeps others out).
  await chmod(dir, 0o755);
}

async function extract(input: Readable, dir: string): Promise<void> {
  const made = new Set<string>([dir]);
  await readTar(input as AsyncIterable<Buffer>, (h) => writeEntry(dir, h, made));
}

/** An entry the filesystem refuses (a symlink without a target, a file where a directory must go…) is the context's fault: a 400 naming the entry, without host paths. */
function writeEntry(dir: string, h: TarHeader, made: Set<string>): EntrySink | undefined {
  try {
    return writeEntryInner(dir, h, made);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (typeof e.code !== 'string' || !e.syscall) throw err;
    const why = e.code === 'EEXIST' || e.code === 'ENOTDIR' ? 'a file is in the way of it' : e.code === 'ELOOP' ? 'symbolic links loop on its path' : `the filesystem refused it (${e.code})`;
    throw new InvalidArgumentError(`the build context entry ${JSON.stringify(h.name)} cannot be unpacked: ${why}: fix or remove it`);
  }
}

function writeEntryInner(dir: string, h: TarHeader, made: Set<string>): EntrySink | undefined {
  const rel = entryName(h.name);
  if (!rel) return undefined;
  const target = resolveInRoot(dir, rel, false);
  const parent = dirname(target);
  if (!made.has(parent)) {
    mkdirSync(parent, { recursive: true });
    made.add(parent);
  }
  const mode = h.mode & 0o7777;
  const times = () => {
    try {
      utimesSync(target, h.mtime, h.mtime);
    } catch { /* a hard link's target may be elsewhere: its time does not matter */ }
  };
  switch (h.type) {
    case 'directory':
      mkdirSync(target, { recursive: true });
      made.add(target);
      chmodSync(target, mode);
      return undefined;
    case 'file': {
      const fd = createFresh(target, (t) => openSync(t, 'wx', mode));
      return {
        data: (chunk) => { writeSync(fd, chunk); },
        end: () => {
          closeSync(fd);
          chmodSync(target, mode);
          times();
        },
      };
    }
    case 'symlink':
      if (!h.linkname) throw new InvalidArgumentError(`the build context entry ${JSON.stringify(h.name)} is a symbolic link without a target: fix or remove it`);
      createFresh(target, (t) => symlinkSync(h.linkname, t));
      return undefined;
    case 'link': {
      const src = resolveInRoot(dir, entryName(h.linkname), false);
      createFresh(target, (t) => linkSync(src, t));
      return undefined;
    }
    default:
      // Devices and fifos have no place in a build context.
      return undefined;
  }
}

/** Applies .dockerignore: removes what it excludes (the Dockerfile and .dockerignore stay readable for the build, not for COPY). */
export async function applyDockerignore(dir: string): Promise<((rel: string) => boolean) | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, '.dockerignore'), 'utf8');
  } catch {
    return undefined;
  }
  let ignored: ((rel: string) => boolean) | undefined;
  try {
    ignored = dockerignore(text);
  } catch (err) {
    if (err instanceof DockerignoreSyntaxError) throw new InvalidArgumentError(err.message);
    throw err;
  }
  if (!ignored) return undefined;
  await removeIgnored(dir, '', ignored);
  return ignored;
}

async function removeIgnored(root: string, rel: string, ignored: (rel: string) => boolean): Promise<void> {
  for (const name of await readdir(join(root, rel))) {
    const r = rel ? `${rel}/${name}` : name;
    const st = await lstat(join(root, r));
    if (st.isDirectory()) {
      await removeIgnored(root, r, ignored);
      if (ignored(r) && !(await readdir(join(root, r))).length) await rm(join(root, r), { recursive: true });
    } else if (ignored(r)) {
      await rm(join(root, r), { force: true });
    }
  }
}
