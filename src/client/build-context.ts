/**
 * The build context as the docker CLI sends it: a tar of the directory with
 * .dockerignore applied (the Dockerfile and .dockerignore always go), owners 0:0,
 * modes and mtimes kept; a Dockerfile from outside the directory (or from stdin)
 * goes in under a name of its own.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { dockerignore } from '../common/dockerignore.js';

export interface ContextTar {
  tar: Readable;
  /** The `dockerfile` query parameter: its path inside the tar. */
  dockerfile: string;
}

/** `file`: -f as given (undefined: DIR/Dockerfile); `dockerfileText`: -f - read from stdin. */
export function contextTar(dir: string, file: string | undefined, dockerfileText?: string): ContextTar {
  const root = resolve(dir);
  let ignoreText = '';
  try {
    ignoreText = readFileSync(join(root, '.dockerignore'), 'utf8');
  } catch { /* none */ }
  const ignored = dockerignore(ignoreText) ?? (() => false);
  let dockerfile = 'Dockerfile';
  let extra: { name: string; content: Buffer } | undefined;
  if (dockerfileText !== undefined) {
    dockerfile = `.dockerfile.${randomBytes(10).toString('hex')}`;
    extra = { name: dockerfile, content: Buffer.from(dockerfileText) };
  } else if (file) {
    const abs = resolve(file);
    const rel = relative(root, abs);
    if (rel.startsWith('..') || rel.startsWith(sep)) {
      dockerfile = `.dockerfile.${randomBytes(10).toString('hex')}`;
      extra = { name: dockerfile, content: readFileSync(abs) };
    } else {
      dockerfile = rel.split(sep).join('/');
    }
  }
  const always = new Set([dockerfile, '.dockerignore']);
  const pack = tar.pack();
  const add = (rel: string) => {
    const abs = join(root, rel);
    const st = lstatSync(abs);
    const common = { name: rel, mode: st.mode & 0o7777, mtime: st.mtime, uid: 0, gid: 0 };
    if (st.isDirectory()) {
      pack.entry({ ...common, type: 'directory' });
      for (const name of readdirSync(abs).sort()) {
        walkOne(`${rel}/${name}`);
      }
    } else if (st.isSymbolicLink()) {
      pack.entry({ ...common, type: 'symlink', linkname: readlinkSync(abs) });
    } else if (st.isFile()) {
      files.push({ header: { ...common, type: 'file', size: st.size }, abs });
    }
  };
  const files: Array<{ header: { name: string; mode: number; mtime: Date; uid: number; gid: number; type: 'file'; size: number }; abs: string }> = [];
  const walkOne = (rel: string) => {
    if (ignored(rel) && !always.has(rel)) {
      // A directory may hold exceptions (!pattern): look inside it.
      if (lstatSync(join(root, rel)).isDirectory() && hasException(ignoreText)) {
        for (const name of readdirSync(join(root, rel)).sort()) walkOne(`${rel}/${name}`);
      }
      return;
    }
    add(rel);
  };
  for (const name of readdirSync(root).sort()) walkOne(name);
  void (async () => {
    try {
      // Files are streamed one after the other (the directories were written already).
      for (const f of files) {
        await new Promise<void>((res, rej) => {
          const entry = pack.entry(f.header as tar.Header, (err) => (err ? rej(err) : res()));
          createReadStream(f.abs).on('error', rej).pipe(entry);
        });
      }
      if (extra) pack.entry({ name: extra.name, mode: 0o600, uid: 0, gid: 0 }, extra.content);
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
    }
  })();
  return { tar: pack as unknown as Readable, dockerfile };
}

function hasException(text: string): boolean {
  return /^\s*!/m.test(text);
}
