/**
 * Layer unpack through `berth-runtime unpack DIR` (native/lib/unpack.c): berthd
 * decompresses the layer (zlib on the threadpool) and hashes it for the diff id,
 * and pipes the plain tar to the native unpacker, which makes the files. The
 * file creation, the bulk of an unpack, then runs in its own process, beside
 * decompression, without the event loop's per-call overhead. The rules are those
 * of unpack.ts (the reference); a failing unpacker fails the unpack, naming why.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { runtimePath } from '../../src/common/paths.js';
import { InvalidArgumentError } from '../errors.js';
import { autoDecompress } from './decompress.js';
import type { UnpackResult } from './unpack.js';

export async function unpackLayerNative(input: Readable, dest: string, what: string): Promise<UnpackResult> {
  const bin = runtimePath();
  if (!existsSync(bin)) {
    const error = new Error(`${what}: cannot unpack: the layer unpacker ${bin} is missing (build it with npm run build, or point BERTH_RUNTIME at berth-runtime)`);
    // The error is thrown here; the input only has to stop (and fail a tee'd other branch).
    input.once('error', () => undefined);
    input.destroy(error);
    throw error;
  }
  mkdirSync(dest, { recursive: true });
  const child = spawn(bin, ['unpack', dest], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  // EPIPE when the unpacker stops early: its exit status and message say why.
  child.stdin.on('error', () => undefined);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  let done = false;
  void exited.then(() => (done = true));

  const hash = createHash('sha256');
  const decompressed = autoDecompress();
  input.on('error', (e) => decompressed.destroy(e));
  input.pipe(decompressed);
  try {
    for await (const chunk of decompressed) {
      hash.update(chunk as Buffer);
      if (done) break;
      if (!child.stdin.write(chunk)) {
        await Promise.race([new Promise((r) => child.stdin.once('drain', r)), exited]);
      }
    }
    child.stdin.end();
  } catch (e) {
    child.kill('SIGKILL');
    await exited;
    throw fail(input, decompressed, e instanceof InvalidArgumentError ? e : new InvalidArgumentError(`${what}: cannot unpack: ${(e as Error).message}`, { cause: e }));
  }
  const r = await exited;
  if (r.code !== 0) {
    if (r.error) throw fail(input, decompressed, new Error(`${what}: cannot unpack: cannot start ${bin}: ${r.error.message}`));
    const why = err.trim().replace(/^berth-runtime: /, '') || `${bin} unpack ended with ${r.signal ?? `status ${r.code}`}`;
    throw fail(input, decompressed, new InvalidArgumentError(`${what}: ${why}`));
  }
  return { diffId: `sha256:${hash.digest('hex')}`, size: Number(out.trim()) };
}

/** Stops the input with the error: a tee'd download then fails its other branch too instead of waiting. */
function fail(input: Readable, decompressed: Readable, error: Error): Error {
  input.destroy(error);
  decompressed.destroy();
  return error;
}
