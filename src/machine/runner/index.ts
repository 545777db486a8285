import type { Readable } from 'node:stream';
import { ProvisionError } from '../errors.js';

/**
 * What provisioning needs from a host: run a shell command (as root), optionally
 * feeding it stdin. The SSH runner and the local runner both implement it, so the
 * provisioner never knows which one it talks to.
 */
export interface RunResult { code: number; stdout: string; stderr: string }

export interface CommandRunner {
  /** Names the host in messages: "root@10.0.0.2:22" or "this host". */
  readonly target: string;
  run(command: string, opts?: { stdin?: string | Buffer | Readable }): Promise<RunResult>;
  close(): void;
}

/** Runs a command and fails with its stderr when it exits non-zero. */
export async function mustRun(runner: CommandRunner, command: string, what: string, opts?: { stdin?: string | Buffer | Readable }): Promise<string> {
  const res = await runner.run(command, opts);
  if (res.code !== 0) {
    const detail = (res.stderr || res.stdout).trim().split('\n').slice(-3).join(' / ');
    throw new ProvisionError(`${what} on ${runner.target} failed (exit ${res.code})${detail ? `: ${detail}` : ''}`);
  }
  return res.stdout;
}

/** Quotes a word for a POSIX shell. */
export function shq(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
