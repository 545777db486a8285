/**
 * Hijacked connections (attach, exec start): after the handler has read the
 * request body, the socket becomes a raw byte stream both ways.
 *
 * Two arrival paths:
 * - with `Connection: Upgrade` + `Upgrade: tcp`, node emits 'upgrade' and hands
 *   the raw socket over (bytes past the headers in `head`); the body, if any,
 *   is read from there by exact Content-Length, and the answer is `101 UPGRADED`;
 * - a plain request: the answer is a raw `200 OK` written on the socket; the
 *   client can't send stdin this way (node's HTTP parser still owns the input).
 */
import type { IncomingMessage } from 'node:http';
import { Duplex, PassThrough, Readable } from 'node:stream';
import type { Socket } from 'node:net';
import { InvalidArgumentError } from '../errors.js';

/** Reads exactly n bytes from `head` then `socket`; pushes back what follows. */
export async function readExactFromSocket(socket: Duplex, head: Buffer, n: number): Promise<Buffer> {
  if (head.length >= n) {
    if (head.length > n) socket.unshift(head.subarray(n));
    return head.subarray(0, n);
  }
  const chunks: Buffer[] = [head];
  let have = head.length;
  return new Promise<Buffer>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      const need = n - have;
      if (chunk.length > need) {
        chunks.push(chunk.subarray(0, need));
        have = n;
        cleanup();
        socket.pause();
        socket.unshift(chunk.subarray(need));
        resolve(Buffer.concat(chunks));
        return;
      }
      chunks.push(chunk);
      have += chunk.length;
      if (have === n) {
        cleanup();
        socket.pause();
        resolve(Buffer.concat(chunks));
      }
    };
    const onEnd = () => {
      cleanup();
      reject(new InvalidArgumentError(`request body ended after ${have} of ${n} bytes`));
    };
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onEnd);
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onEnd);
    socket.resume();
  });
}

export function upgradeResponseHead(contentType: string): string {
  return `HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`;
}

export function rawOkResponseHead(contentType: string): string {
  return `HTTP/1.1 200 OK\r\nContent-Type: ${contentType}\r\nConnection: close\r\n\r\n`;
}

/**
 * For the plain-request path: a duplex whose writes go to the socket and whose
 * readable side ends at once (no stdin over a non-upgraded request).
 */
export function outputOnlyDuplex(socket: Socket, req: IncomingMessage): Duplex {
  req.resume();
  const input = new PassThrough();
  input.end();
  const d = Duplex.from({ readable: input as Readable, writable: socket });
  socket.on('close', () => d.destroy());
  return d;
}
