import type { Readable, Writable } from 'node:stream';
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
  /** Starts a command whose output is read while it runs and whose stdin is written as it goes. */
  start(command: string): Promise<RemoteProcess>;
  close(): void;
}

/** A running command: its stdin, its output so far, and its end. */
export interface RemoteProcess {
  readonly stdin: Writable;
  /** The stdout before a line that is exactly `marker`, once it came; rejects with the result when the command ends first. */
  until(marker: string): Promise<string>;
  readonly done: Promise<RunResult>;
}

/** What a runner feeds a RemoteProcess as the command runs. */
export class ProcessOutput implements Omit<RemoteProcess, 'stdin'> {
  private out = '';
  private err = '';
  private waiters: { marker: string; resolve: (s: string) => void; reject: (r: RunResult) => void }[] = [];
  private ended?: RunResult;
  readonly done: Promise<RunResult>;
  private finish!: (r: RunResult) => void;

  constructor() {
    this.done = new Promise((resolve) => { this.finish = resolve; });
  }

  stdout(chunk: string): void {
    this.out += chunk;
    this.waiters = this.waiters.filter((w) => !this.settle(w));
  }

  stderr(chunk: string): void {
    this.err += chunk;
  }

  end(code: number): void {
    if (this.ended) return;
    this.ended = { code, stdout: this.out, stderr: this.err };
    for (const w of this.waiters) if (!this.settle(w)) w.reject(this.ended);
    this.waiters = [];
    this.finish(this.ended);
  }

  until(marker: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const w = { marker, resolve, reject };
      if (this.settle(w)) return;
      if (this.ended) reject(this.ended);
      else this.waiters.push(w);
    });
  }

  private settle(w: { marker: string; resolve: (s: string) => void }): boolean {
    const at = this.out.startsWith(`${w.marker}\n`) ? 0 : this.out.indexOf(`\n${w.marker}\n`);
    if (at < 0) return false;
    w.resolve(this.out.slice(0, at === 0 ? 0 : at + 1));
    return true;
  }
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
