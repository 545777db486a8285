import { readFile } from 'node:fs/promises';
import { NodeSSH } from 'node-ssh';
import { reason, UnreachableError } from './errors.js';

export interface NativeTarget { host: string; port: number; user: string; keyPath: string }

/**
 * `machine ssh` with berth's built-in SSH client (Docker Machine's `--native-ssh`,
 * MACHINE_NATIVE_SSH, or when no `ssh` binary is installed): a command's output and
 * exit status, or an interactive shell on a pty when stdin is a terminal. Like
 * Docker Machine's native client, the words after NAME are the remote command
 * (OpenSSH options such as -L are for the system client).
 */
export async function nativeSshRun(t: NativeTarget, command: string[]): Promise<number> {
  const ssh = new NodeSSH();
  try {
    await ssh.connect({ host: t.host, port: t.port, username: t.user, privateKey: await readFile(t.keyPath, 'utf8'), readyTimeout: 15_000 });
  } catch (err) {
    throw new UnreachableError(`SSH to ${t.user}@${t.host}:${t.port} failed: ${reason(err)}`);
  }
  const conn = ssh.connection!;
  const tty = process.stdin.isTTY === true;
  try {
    return await new Promise<number>((resolve, reject) => {
      const onStream = (err: Error | undefined, stream: import('ssh2').ClientChannel) => {
        if (err) return reject(err);
        if (tty) process.stdin.setRawMode(true);
        process.stdin.pipe(stream);
        stream.pipe(process.stdout);
        stream.stderr.pipe(process.stderr);
        stream.on('exit', (code: number | null, signal?: string) => resolve(code ?? (signal ? 255 : 0)));
        stream.on('close', () => resolve(255));
      };
      const pty = tty ? { term: process.env.TERM || 'xterm', rows: process.stdout.rows ?? 24, cols: process.stdout.columns ?? 80 } : undefined;
      if (command.length) conn.exec(command.join(' '), { pty }, onStream);
      else conn.shell(pty ?? false, onStream);
    });
  } finally {
    if (tty) process.stdin.setRawMode(false);
    process.stdin.unpipe();
    process.stdin.pause();
    ssh.dispose();
  }
}
