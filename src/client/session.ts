import type { Duplex } from 'node:stream';
import { EngineApiError, type EngineClient } from './engine.js';
import { copyOutput } from './frames.js';
import { enterRawMode, followWindowSize } from './tty.js';

/**
 * An attached container session, in the docker CLI's order: attach (hijacked), wait
 * registered (condition next-exit, or removed for --rm), start, resize; then output
 * until the container exits and its status. Signals received meanwhile are passed to
 * the container (--sig-proxy) unless it has a TTY, where the keys go through it.
 */
export interface SessionOptions {
  tty: boolean;
  stdin: boolean;
  autoRemove: boolean;
  /** false: the container is already running (start -a of a running one). */
  start: boolean;
  /** attach --sig-proxy=false: signals stay here. */
  sigProxy?: boolean;
}

export class StartError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

/** docker's exit statuses for a start that failed: 127 command not found, 126 not executable, else 125. */
export function startFailureCode(message: string): number {
  if (/executable file not found|no such file or directory|not found in \$PATH/i.test(message)) return 127;
  if (/permission denied|is a directory|exec format error/i.test(message)) return 126;
  return 125;
}

export async function attachedSession(client: EngineClient, id: string, o: SessionOptions): Promise<number> {
  const path = `/containers/${encodeURIComponent(id)}`;
  const { socket } = await client.hijack(`${path}/attach`, { query: { stream: true, stdin: o.stdin, stdout: true, stderr: true } });
  const waitRes = await client.stream('POST', `${path}/wait`, { query: { condition: o.autoRemove ? 'removed' : 'next-exit' } });
  const waitBody = readJson(waitRes);
  const output = copyOutput(socket, process.stdout, process.stderr, !o.tty);
  const terminal = o.tty && o.stdin ? enterRawMode() : undefined;
  const signals = o.tty || o.sigProxy === false ? [] : proxySignals(client, path);
  let stopResize = () => undefined as void;
  try {
    if (o.stdin) pipeStdin(socket);
    if (o.start) {
      try {
        await client.json('POST', `${path}/start`);
      } catch (err) {
        socket.destroy();
        if (err instanceof EngineApiError) throw new StartError(err.message, startFailureCode(err.message));
        throw err;
      }
    }
    if (o.tty) stopResize = followWindowSize((rows, cols) => client.json('POST', `${path}/resize`, { query: { h: rows, w: cols } }));
    const result = await waitBody;
    await output.catch(() => undefined);
    if (result?.Error?.Message) process.stderr.write(`berth: ${result.Error.Message}\n`);
    return Number(result?.StatusCode ?? 0);
  } finally {
    stopResize();
    terminal?.restore();
    for (const [sig, fn] of signals) process.off(sig, fn);
    releaseStdin();
  }
}

function readJson(res: NodeJS.ReadableStream): Promise<any> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.on('data', (c) => (text += c));
    res.on('end', () => {
      try {
        resolve(text.trim() ? JSON.parse(text) : undefined);
      } catch {
        reject(new EngineApiError(200, `the engine's wait answer is not JSON: ${text.slice(0, 200)}`));
      }
    });
    res.on('error', reject);
  });
}

/** Local stdin to the container; its end half-closes the connection (the container sees EOF). */
export function pipeStdin(socket: Duplex): void {
  process.stdin.on('data', (c) => socket.write(c));
  process.stdin.once('end', () => socket.end());
  socket.on('error', () => undefined /* the engine closed first: output already ended */);
}

export function releaseStdin(): void {
  process.stdin.removeAllListeners('data');
  process.stdin.pause();
  if (!process.stdin.isTTY) process.stdin.destroy();
}

function proxySignals(client: EngineClient, path: string): Array<[NodeJS.Signals, () => void]> {
  const list: Array<[NodeJS.Signals, () => void]> = (['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as NodeJS.Signals[]).map((sig) => [
    sig,
    () => void client.json('POST', `${path}/kill`, { query: { signal: sig } }).catch(() => undefined /* already exited */),
  ]);
  for (const [sig, fn] of list) process.on(sig, fn);
  return list;
}
