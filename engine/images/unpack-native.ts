/**
 * Layer unpack through `berth-runtime unpack DIR` (native/lib/unpack.c): berthd
 * pipes the layer to the native unpacker as it comes when it is gzip or a plain
 * tar, which decodes and hashes it on a thread of its own (native/lib/layerin.c)
 * beside the file creation, and answers the diff id; other compressions (zstd,
 * bzip2, xz) berthd decompresses first. The rules are those of unpack.ts (the
 * reference); a failing unpacker fails the unpack, naming why.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { runtimePath } from '../../src/common/paths.js';
import { InvalidArgumentError } from '../errors.js';
import { autoDecompress } from './decompress.js';
import { isDigest } from './digest.js';
import type { UnpackResult } from './unpack.js';
import { now, traceRecord, tracing } from '../trace.js';

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
  const started = now();
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

  const decompressed = autoDecompress(undefined, ['gzip']);
  input.on('error', (e) => decompressed.destroy(e));
  input.pipe(decompressed);
  try {
    for await (const chunk of decompressed) {
      if (done) break;
      if (!child.stdin.write(chunk)) {
        await Promise.race([new Promise((r) => child.stdin.once('drain', r)), exited]);
      }
    }
    child.stdin.end();
    if (tracing) traceRecord('unpack: input sent', dest, started);
  } catch (e) {
    child.kill('SIGKILL');
    await exited;
    throw fail(input, decompressed, e instanceof InvalidArgumentError ? e : new InvalidArgumentError(`${what}: cannot unpack: ${(e as Error).message}`, { cause: e }));
  }
  const r = await exited;
  if (tracing) traceRecord('unpack: unpacker exited', dest, started);
  if (r.code !== 0) {
    if (r.error) throw fail(input, decompressed, new Error(`${what}: cannot unpack: cannot start ${bin}: ${r.error.message}`));
    const why = err.trim().replace(/^berth-runtime: /, '') || `${bin} unpack ended with ${r.signal ?? `status ${r.code}`}`;
    throw fail(input, decompressed, new InvalidArgumentError(`${what}: ${why}`));
  }
  const [size, diffId] = out.trim().split(' ');
  if (!/^\d+$/.test(size) || !isDigest(diffId)) throw new Error(`${what}: cannot unpack: ${bin} unpack answered ${JSON.stringify(out.trim())}, not its size and diff id (an older berth-runtime? rebuild it with npm run build)`);
  return { diffId, size: Number(size) };
}

/** Stops the input with the error: a tee'd download then fails its other branch too instead of waiting. */
function fail(input: Readable, decompressed: Readable, error: Error): Error {
  input.destroy(error);
  decompressed.destroy();
  return error;
}
