/**
 * Client of berth-runtime's monitor socket (one per container or exec process):
 * ATTACH streams, RESIZE the pty, WAIT for the exit status, START a created container.
 */
import { connect, type Socket } from 'node:net';

export interface ExitStatus { exitCode: number; finishedAt: string; oomKilled: boolean }

function open(path: string, header: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    sock.once('error', reject);
    sock.once('connect', () => {
      sock.off('error', reject);
      sock.write(header);
      resolve(sock);
    });
  });
}

/** Raw duplex to the container's stdio: frames without a TTY, raw bytes with one. */
export function attach(path: string, streams: { stdin: boolean; stdout: boolean; stderr: boolean }): Promise<Socket> {
  const flag = (b: boolean) => (b ? '1' : '0');
  return open(path, `ATTACH stdin=${flag(streams.stdin)} stdout=${flag(streams.stdout)} stderr=${flag(streams.stderr)}\n`);
}

function oneLine(sock: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) { sock.destroy(); resolve(buf.slice(0, nl)); }
    });
    sock.once('error', reject);
    sock.once('close', () => (buf.includes('\n') ? undefined : reject(new Error('monitor closed the connection without an answer'))));
  });
}

export async function resize(path: string, rows: number, cols: number): Promise<void> {
  const answer = await oneLine(await open(path, `RESIZE ${rows} ${cols}\n`));
  if (answer.trim() !== 'OK') throw new Error(`monitor refused RESIZE: ${answer}`);
}

/** Resolves when the process exits (at once if it already has). */
export async function waitExit(path: string): Promise<ExitStatus> {
  const sock = await open(path, 'WAIT\n');
  // A pending WAIT must not keep berthd alive at shutdown (live restore).
  sock.unref();
  return JSON.parse(await oneLine(sock)) as ExitStatus;
}

/** Lets a created container run (what `berth-runtime start` sends), without an exec. */
export async function startProcess(path: string): Promise<void> {
  const answer = (await oneLine(await open(path, 'START\n'))).trim();
  if (!answer.startsWith('OK')) throw new Error(answer.replace(/^ERR /, '') || 'no answer from the monitor');
}
