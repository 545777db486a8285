import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { debug } from '../debug.js';
import { InvalidArgumentError } from '../errors.js';
import type { CommandRunner, RunResult } from './index.js';

/** Runs commands on this host through /bin/sh, as the current (root) user. */
export class LocalRunner implements CommandRunner {
  readonly target = 'this host';

  constructor() {
    if (process.getuid?.() !== 0) {
      throw new InvalidArgumentError('the local driver needs root: berth installs and runs its engine on this host', { hint: 'run berth as root (sudo berth machine …)' });
    }
  }

  run(command: string, opts: { stdin?: string | Buffer | Readable } = {}): Promise<RunResult> {
    debug(`local: ${command.length > 300 ? `${command.slice(0, 300)}…` : command}`);
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => err.push(c));
      child.on('error', reject);
      child.stdin.on('error', () => undefined); // a command that ignores stdin may close it early; its exit code tells the story
      child.on('close', (code, signal) => resolve({
        code: code ?? 128 + (signal ? 15 : 0),
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      }));
      const input = opts.stdin;
      if (input instanceof Readable) input.pipe(child.stdin);
      else child.stdin.end(input ?? '');
    });
  }

  close(): void {}
}
