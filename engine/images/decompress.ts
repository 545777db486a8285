/**
 * Decompression chosen by magic bytes, as dockerd's archive.DecompressStream (layers,
 * build contexts, ADD archives): gzip and zstd in process, bzip2 and xz through the
 * system's tools (node has neither), anything else as it is.
 */
import { spawn } from 'node:child_process';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { createGunzip, createGzip, type ZlibOptions } from 'node:zlib';
import { Decompress } from 'fzstd';
import { InvalidArgumentError } from '../errors.js';

const GZIP = [0x1f, 0x8b];
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];
const BZIP2 = [0x42, 0x5a, 0x68];
const XZ = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
/** Bytes enough to tell them all apart. */
const SNIFF = XZ.length;

function startsWith(buf: Buffer, magic: number[]): boolean {
  return magic.every((b, i) => buf[i] === b);
}

export type Compression = 'gzip' | 'zstd' | 'bzip2' | 'xz' | 'plain';

export function compressionOf(head: Buffer): Compression {
  if (startsWith(head, GZIP)) return 'gzip';
  if (startsWith(head, ZSTD)) return 'zstd';
  if (startsWith(head, BZIP2)) return 'bzip2';
  if (startsWith(head, XZ)) return 'xz';
  return 'plain';
}

/**
 * Chunks buffered on the inflate side (of 256 KB from zlib): zlib (on the
 * threadpool) runs ahead while the main thread works. The readable side hands
 * out the chunks as pushed (object mode): a byte-mode read() would concatenate
 * all that is buffered, copying every byte of the layer once more.
 */
const AHEAD_CHUNKS = 32;
const AHEAD = 8 << 20;

type Done = (err?: Error | null) => void;
interface Decoder {
  write(chunk: Buffer, cb: Done): void;
  end(cb: Done): void;
}

function decoderFor(kind: Compression, out: Transform, what: string | undefined): Decoder {
  if (kind === 'plain') return { write: (chunk, cb) => { out.push(chunk); cb(); }, end: (cb) => cb() };
  // Without `what`, zlib's and zstd's errors pass as they are (a layer's unpacker names the layer).
  const invalid = (e: Error) => (what ? new InvalidArgumentError(`${what} is not a valid ${kind} stream: ${e.message}`, { cause: e }) : e);
  if (kind === 'zstd') {
    const zstd = new Decompress((d) => out.push(Buffer.from(d.buffer, d.byteOffset, d.byteLength)));
    const feed = (chunk: Uint8Array, last: boolean, cb: Done) => {
      try {
        zstd.push(chunk, last);
      } catch (err) {
        return cb(invalid(err as Error));
      }
      cb();
    };
    return { write: (chunk, cb) => feed(chunk, false, cb), end: (cb) => feed(new Uint8Array(0), true, cb) };
  }
  if (kind === 'gzip') {
    const inner = createGunzip({ chunkSize: 256 * 1024, highWaterMark: AHEAD } as ZlibOptions);
    inner.on('data', (d: Buffer) => out.push(d));
    inner.on('error', (e) => out.destroy(invalid(e)));
    return {
      write: (chunk, cb) => { if (!inner.write(chunk)) inner.once('drain', () => cb()); else cb(); },
      end: (cb) => { inner.once('end', () => cb()); inner.end(); },
    };
  }
  return toolDecoder(kind, out, what ?? 'the archive');
}

function toolDecoder(cmd: 'bzip2' | 'xz', out: Transform, what: string): Decoder {
  const child = spawn(cmd, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stdin.on('error', () => undefined);
  const exited = new Promise<Error | undefined>((resolve) => {
    child.on('error', (err) => resolve(new InvalidArgumentError(`${what} is ${cmd}-compressed and ${cmd} cannot run (${err.message}): install ${cmd === 'xz' ? 'xz-utils' : 'bzip2'} on the engine host or send it uncompressed`)));
    child.on('close', (code) => resolve(code === 0 ? undefined : new InvalidArgumentError(`${what} is not a valid ${cmd} stream: ${stderr.trim() || `${cmd} exited ${code}`}`)));
  });
  // A tool that fails mid-stream stops the stream at once, not at its end.
  void exited.then((err) => { if (err) out.destroy(err); });
  // A reader that stops early leaves no tool behind waiting for input.
  out.once('close', () => { if (child.exitCode === null && child.signalCode === null) child.kill(); });
  return {
    write: (chunk, cb) => { if (!child.stdin.write(chunk)) child.stdin.once('drain', () => cb()); else cb(); },
    end: (cb) => { child.stdin.end(); void exited.then((err) => { if (!err) cb(); }); },
  };
}

/**
 * A transform that sniffs the first bytes and decompresses accordingly. `what` names
 * the stream in the errors, which are then InvalidArgumentErrors. Compressions in
 * `keep` pass as they are (the native unpacker decodes gzip itself).
 */
export function autoDecompress(what?: string, keep: readonly Compression[] = []): Transform {
  let decoder: Decoder | undefined;
  let head = Buffer.alloc(0);
  const self: Transform = new Transform({
    readableObjectMode: true,
    readableHighWaterMark: AHEAD_CHUNKS,
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (!decoder) {
        head = Buffer.concat([head, chunk]);
        if (head.length < SNIFF) return cb();
        chunk = head;
        decoder = decoderFor(kept(compressionOf(head), keep), self, what);
      }
      try {
        decoder.write(chunk, cb);
      } catch (err) {
        cb(err as Error);
      }
    },
    flush(cb: TransformCallback) {
      try {
        if (decoder) return decoder.end(cb);
        // Shorter than the longest magic number.
        decoder = decoderFor(kept(compressionOf(head), keep), self, what);
        const d = decoder;
        if (!head.length) return d.end(cb);
        d.write(head, (err) => (err ? cb(err) : d.end(cb)));
      } catch (err) {
        cb(err as Error);
      }
    },
  });
  return self;
}

function kept(kind: Compression, keep: readonly Compression[]): Compression {
  return keep.includes(kind) ? 'plain' : kind;
}

/** `input` through autoDecompress; an error of the input ends the answer with it. */
export function decompressed(input: Readable, what?: string): Transform {
  const out = autoDecompress(what);
  input.on('error', (e) => out.destroy(e));
  return input.pipe(out);
}

/** Gzips a plain tar on its way to the content store; compressed input passes as is. */
export function gzipIfPlain(): Transform {
  let gz: ReturnType<typeof createGzip> | undefined;
  let mode: 'gzip' | 'pass' | undefined;
  let head = Buffer.alloc(0);
  const self: Transform = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (!mode) {
        head = Buffer.concat([head, chunk]);
        if (head.length < 4) return cb();
        chunk = head;
        mode = startsWith(head, GZIP) || startsWith(head, ZSTD) ? 'pass' : 'gzip';
        if (mode === 'gzip') {
          gz = createGzip({ level: 6, chunkSize: 256 * 1024 });
          gz.on('data', (d: Buffer) => self.push(d));
          gz.on('error', (e) => self.destroy(e));
        }
      }
      if (mode === 'pass') return cb(null, chunk);
      if (!gz!.write(chunk)) gz!.once('drain', () => cb());
      else cb();
    },
    flush(cb: TransformCallback) {
      if (!mode) {
        // Shorter than a magic number: not a tar worth compressing.
        if (head.length) self.push(head);
        return cb();
      }
      if (mode === 'pass') return cb();
      gz!.once('end', () => cb());
      gz!.end();
    },
  });
  return self;
}
