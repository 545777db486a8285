/** Layer decompression chosen by magic bytes: gzip, zstd or plain tar. */
import { Transform, type TransformCallback } from 'node:stream';
import { createGunzip, createGzip, type ZlibOptions } from 'node:zlib';
import { Decompress } from 'fzstd';

const GZIP = [0x1f, 0x8b];
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];

function startsWith(buf: Buffer, magic: number[]): boolean {
  return magic.every((b, i) => buf[i] === b);
}

/**
 * Chunks buffered on the inflate side (of 256 KB from zlib): zlib (on the
 * threadpool) runs ahead while the main thread works. The readable side hands
 * out the chunks as pushed (object mode): a byte-mode read() would concatenate
 * all that is buffered, copying every byte of the layer once more.
 */
const AHEAD_CHUNKS = 32;
const AHEAD = 8 << 20;

/** A transform that sniffs the first bytes and decompresses accordingly. */

export function autoDecompress(): Transform {
  let inner: Transform | undefined;
  let zstd: Decompress | undefined;
  let mode: 'gzip' | 'zstd' | 'plain' | undefined;
  let head = Buffer.alloc(0);
  const self: Transform = new Transform({
    readableObjectMode: true,
    readableHighWaterMark: AHEAD_CHUNKS,
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (!mode) {
        head = Buffer.concat([head, chunk]);
        if (head.length < 4) return cb();
        chunk = head;
        mode = startsWith(head, GZIP) ? 'gzip' : startsWith(head, ZSTD) ? 'zstd' : 'plain';
        if (mode === 'gzip') {
          inner = createGunzip({ chunkSize: 256 * 1024, highWaterMark: AHEAD } as ZlibOptions);
          inner.on('data', (d: Buffer) => self.push(d));
          inner.on('error', (e) => self.destroy(e));
        } else if (mode === 'zstd') {
          zstd = new Decompress((d) => self.push(Buffer.from(d.buffer, d.byteOffset, d.byteLength)));
        }
      }
      try {
        if (mode === 'plain') return cb(null, chunk);
        if (mode === 'zstd') {
          zstd!.push(chunk);
          return cb();
        }
        if (!inner!.write(chunk)) inner!.once('drain', () => cb());
        else cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    flush(cb: TransformCallback) {
      if (!mode) {
        if (head.length) self.push(head);
        return cb();
      }
      try {
        if (mode === 'zstd') {
          zstd!.push(new Uint8Array(0), true);
          return cb();
        }
        if (mode === 'gzip') {
          inner!.once('end', () => cb());
          inner!.end();
          return;
        }
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
  return self;
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
