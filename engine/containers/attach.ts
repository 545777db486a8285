/**
 * Joins a hijacked client connection to a monitor ATTACH connection: output to the
 * client, stdin to the container, detach keys, half-close.
 */
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { InvalidArgumentError } from '../errors.js';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** "ctrl-p,ctrl-q" -> [0x10, 0x11]; docker's syntax. */
export function parseDetachKeys(spec: string): Buffer {
  const bytes: number[] = [];
  for (const key of spec.split(',')) {
    const k = key.trim();
    if (k.length === 1) { bytes.push(k.charCodeAt(0)); continue; }
    const m = /^ctrl-(.)$/i.exec(k);
    if (!m) throw new InvalidArgumentError(`Invalid detach keys (${spec}) provided: use a comma-separated list of single characters or ctrl-<value>`);
    const c = m[1].toLowerCase();
    if (c >= 'a' && c <= 'z') bytes.push(c.charCodeAt(0) - 96);
    else if ('@[\\]^_'.includes(m[1])) bytes.push(m[1].charCodeAt(0) - 64);
    else throw new InvalidArgumentError(`Invalid detach keys (${spec}) provided: unknown key ${k}`);
  }
  return Buffer.from(bytes);
}

export interface AttachOptions {
  stdin: boolean;
  detachKeys: Buffer;
  /** Called when the client typed the detach sequence. */
  onDetach?: () => void;
  /** Awaited before the client's stream is ended (exec: its exit code must be known first). */
  beforeEnd?: () => Promise<void>;
  /**
   * The end of the client's stdin ends the attach, leaving the process's stdin open
   * (dockerd, unless the container has StdinOnce and no tty); otherwise it closes the
   * process's stdin (with StdinOnce, the monitor does) and the output goes on.
   */
  endOnStdinEof?: boolean;
}

/** Pipes until the monitor closes (container exit) or the client detaches/goes away. */
export function join(client: Duplex, monitor: Socket, opts: AttachOptions): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      resolve();
    };
    monitor.on('data', (d: Buffer) => {
      if (!client.destroyed) client.write(d);
    });
    monitor.on('close', () => {
      const end = () => {
        if (!client.destroyed) client.end();
        finish();
      };
      if (opts.beforeEnd) void opts.beforeEnd().catch(() => undefined).then(end);
      else end();
    });
    monitor.on('error', () => monitor.destroy());
    client.on('error', () => client.destroy());
    client.on('close', () => {
      monitor.destroy();
      finish();
    });
    let held: number[] = [];
    client.on('data', (d: Buffer) => {
      if (!opts.stdin) return;
      const keys = opts.detachKeys;
      if (!keys.length) { monitor.write(d); return; }
      const out: number[] = [];
      for (const byte of d) {
        if (byte === keys[held.length]) {
          held.push(byte);
          if (held.length === keys.length) {
            if (out.length) monitor.write(Buffer.from(out));
            opts.onDetach?.();
            monitor.destroy();
            client.end();
            finish();
            return;
          }
          continue;
        }
        // Not the sequence after all: the held bytes belong to the container.
        out.push(...held);
        held = [];
        if (byte === keys[0]) held.push(byte);
        else out.push(byte);
      }
      if (out.length) monitor.write(Buffer.from(out));
    });
    client.on('end', () => {
      if (!opts.stdin || monitor.destroyed) return;
      if (!opts.endOnStdinEof) { monitor.end(); return; }
      monitor.destroy();
      if (!client.destroyed) client.end();
      finish();
    });
    client.resume();
  });
}
