/**
 * `cp` between the local filesystem and a container, as the docker CLI does it: the
 * engine's archive endpoints carry a tar whose top entry is the source's basename;
 * the local side is GNU tar (create with the top entry renamed, extract into a
 * staging directory renamed into place, so an interrupted copy leaves no half file).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, statSync, readdirSync } from 'node:fs';
import { basename, dirname, join, posix, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EngineApiError, type EngineClient } from './engine.js';

export class CopyError extends Error {}

interface PathStat { name: string; size: number; mode: number; linkTarget: string }

const DIR_BIT = 0x80000000; // Go's os.ModeDir in the stat header

function tar(args: string[], input?: Readable): { out: Readable; done: Promise<void> } {
  const child = spawn('tar', args, { stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr += c));
  if (input) input.pipe(child.stdin!);
  const done = new Promise<void>((ok, fail) => {
    child.on('error', (e) => fail(new CopyError(`cannot run tar: ${e.message}`)));
    child.on('close', (code) => (code === 0 ? ok() : fail(new CopyError(`tar failed: ${stderr.trim() || `exit ${code}`}`))));
  });
  return { out: child.stdout!, done };
}

async function statIn(client: EngineClient, container: string, path: string): Promise<PathStat | undefined> {
  try {
    const res = await client.stream('HEAD', `/containers/${encodeURIComponent(container)}/archive`, { query: { path } });
    res.resume();
    const header = String(res.headers['x-docker-container-path-stat'] ?? '');
    return header ? JSON.parse(Buffer.from(header, 'base64').toString('utf8')) : undefined;
  } catch (err) {
    if (err instanceof EngineApiError && err.status === 404) return undefined;
    throw err;
  }
}

/** Container path → local path (or `-`: the tar to `stdout`). */
export async function copyFromContainer(client: EngineClient, container: string, src: string, dest: string, stdout: NodeJS.WritableStream): Promise<void> {
  const res = await client.stream('GET', `/containers/${encodeURIComponent(container)}/archive`, { query: { path: src } });
  if (dest === '-') return pipeline(res, stdout);
  const target = resolve(dest);
  let isDir = false;
  try {
    isDir = statSync(target).isDirectory();
  } catch {
    if (dest.endsWith('/')) throw new CopyError(`destination directory ${dest} does not exist: create it first`);
  }
  const contentsOnly = /\/\.$/.test(src);
  const parent = isDir && !contentsOnly ? target : dirname(target);
  const stage = mkdtempSync(join(parent, '.berth-cp-'));
  try {
    const t = tar(['-x', '--no-same-owner', '-C', stage, '-f', '-'], res);
    t.out.resume();
    await t.done;
    const [top] = readdirSync(stage);
    if (!top) throw new CopyError(`the engine sent an empty archive for ${container}:${src}`);
    if (contentsOnly) {
      for (const e of readdirSync(join(stage, top))) renameInto(join(stage, top, e), join(target, e));
    } else renameInto(join(stage, top), isDir ? join(target, top) : target);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

function renameInto(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST' && e.code !== 'EISDIR') throw err;
    // An existing directory: merge into it, as tar would.
    for (const entry of readdirSync(from)) renameInto(join(from, entry), join(to, entry));
  }
}

/** Local path (or `-`: a tar from `stdin`) → container path. */
export async function copyToContainer(client: EngineClient, container: string, src: string, dest: string, stdin: Readable, opts: { followLink?: boolean; archive?: boolean }): Promise<void> {
  const put = (dir: string, body: Readable) => client.json('PUT', `/containers/${encodeURIComponent(container)}/archive`, { query: { path: dir, copyUIDGID: opts.archive }, body, headers: { 'Content-Type': 'application/x-tar' } });
  if (src === '-') {
    await put(dest, stdin);
    return;
  }
  const local = resolve(src);
  statSync(local); // ENOENT: reported by the caller
  const st = await statIn(client, container, dest);
  const contentsOnly = /\/\.$/.test(src);
  let dir: string;
  let name: string;
  if (st && (st.mode & DIR_BIT) !== 0) {
    dir = dest;
    name = contentsOnly ? '.' : basename(local);
  } else {
    if (dest.endsWith('/')) throw new CopyError(`destination directory ${container}:${dest} does not exist: create it first`);
    dir = posix.dirname(dest);
    name = posix.basename(dest);
  }
  const owner = opts.archive ? [] : ['--owner=0', '--group=0'];
  const escaped = name.replace(/[\\|&]/g, '\\$&');
  const args = ['-c', '--numeric-owner', ...owner, ...(opts.followLink ? ['-h'] : []), '--transform', `s|^[^/]*|${escaped}|S`, '-C', dirname(local), '-f', '-', contentsOnly ? basename(dirname(local + '/x')) : basename(local)];
  const t = tar(args);
  await Promise.all([put(dir, t.out), t.done]);
}
