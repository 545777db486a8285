import type { Readable, Writable } from 'node:stream';

/**
 * Docker's multiplexed stream (attach, exec and logs without a TTY): frames of an
 * 8-byte header [stream, 0, 0, 0, size uint32 BE] then `size` bytes; stream 1 is
 * stdout, 2 stderr, 3 an error from the daemon.
 */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (stream: number, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 8) {
      const size = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + size) break;
      this.onFrame(this.buf[0], this.buf.subarray(8, 8 + size));
      this.buf = this.buf.subarray(8 + size);
    }
  }

  /** Bytes of an unfinished frame left when the stream ended. */
  get pending(): number {
    return this.buf.length;
  }
}

export class DaemonStreamError extends Error {}

/** Copies `src` to stdout/stderr, demultiplexing unless it is a raw TTY stream; resolves at its end. */
export function copyOutput(src: Readable, out: Writable, err: Writable, multiplexed: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    let failure: Error | undefined;
    const decoder = new FrameDecoder((stream, payload) => {
      if (stream === 2) err.write(payload);
      else if (stream === 3) failure = new DaemonStreamError(payload.toString('utf8').trim());
      else out.write(payload);
    });
    src.on('data', (c: Buffer) => (multiplexed ? decoder.push(c) : out.write(c)));
    src.on('end', () => (failure ? reject(failure) : resolve()));
    src.on('close', () => (failure ? reject(failure) : resolve()));
    src.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? resolve() : reject(e)));
  });
}
