import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { debug } from '../debug.js';
import { InvalidArgumentError } from '../errors.js';
import { ProcessOutput, type CommandRunner, type RemoteProcess, type RunResult } from './index.js';

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

  async start(command: string): Promise<RemoteProcess> {
    debug(`local: ${command.length > 300 ? `${command.slice(0, 300)}…` : command}`);
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'] });
    const p = new ProcessOutput();
    child.stdout.setEncoding('utf8').on('data', (c: string) => p.stdout(c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => p.stderr(c));
    child.stdin.on('error', () => undefined); // the command may stop reading: its exit code tells the story
    child.on('error', (err) => { p.stderr(String(err)); p.end(127); });
    child.on('close', (code, signal) => p.end(code ?? 128 + (signal ? 15 : 0)));
    return Object.assign(p, { stdin: child.stdin });
  }

  close(): void {}
}
