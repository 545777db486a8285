import { Readable } from 'node:stream';
import { readFile } from 'node:fs/promises';
import { NodeSSH } from 'node-ssh';
import { InvalidArgumentError, TimeoutError, UnreachableError, reason } from '../errors.js';
import { debug } from '../debug.js';
import { shq, type CommandRunner, type RunResult } from './index.js';

export interface SshTarget { host: string; port: number; user: string; keyPath: string }

/**
 * Commands over SSH. A non-root user must have password-less sudo: every command
 * then runs under `sudo -n sh -c`.
 */
export class SshRunner implements CommandRunner {
  readonly target: string;
  private sudo = false;

  private constructor(private readonly ssh: NodeSSH, t: SshTarget) {
    this.target = `${t.user}@${t.host}:${t.port}`;
  }

  /** Connects, retrying until `timeoutMs`; the error names the host, port and last failure. */
  static async connect(t: SshTarget, timeoutMs = 60_000, opts: { refusedFails?: boolean } = {}): Promise<SshRunner> {
    const privateKey = await readFile(t.keyPath, 'utf8').catch((err) => {
      throw new InvalidArgumentError(`cannot read SSH key ${t.keyPath}: ${reason(err)}`, { hint: 'pass a readable private key file' });
    });
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (let attempt = 0; ; attempt++) {
      const ssh = new NodeSSH();
      try {
        const left = Math.max(1000, deadline - Date.now());
        await ssh.connect({ host: t.host, port: t.port, username: t.user, privateKey, readyTimeout: Math.min(left, 15_000), keepaliveInterval: 0 });
        return new SshRunner(ssh, t);
      } catch (err) {
        ssh.dispose();
        last = err;
        // A refused key will not get better by waiting.
        if (/authentication methods failed|All configured authentication/i.test(reason(err))) {
          throw new UnreachableError(`SSH to ${t.user}@${t.host}:${t.port} refused the key ${t.keyPath}: ${reason(err)}`, { hint: "check the machine's SSH user and key (the driver's --*-ssh-user and --*-ssh-key / --*-ssh-keypath flags)" });
        }
        // A host that is already up and refuses the port has no sshd there: waiting won't help.
        if (opts.refusedFails && (err as NodeJS.ErrnoException).code === 'ECONNREFUSED') {
          throw new UnreachableError(`SSH to ${t.user}@${t.host}:${t.port} was refused: nothing listens on that port`, { hint: "check the machine's SSH port (the driver's --*-ssh-port flag) and that sshd runs on the host" });
        }
        if (Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 1000)));
      }
    }
    throw new TimeoutError(`waited ${Math.round(timeoutMs / 1000)} s for SSH on ${t.host}:${t.port}; last error: ${reason(last)}`, { hint: 'check that the host is up and sshd listens on that port' });
  }

  /** Makes sure commands run as root: directly, or through password-less sudo. */
  async becomeRoot(): Promise<void> {
    const id = await this.raw('id -u');
    if (id.stdout.trim() === '0') return;
    const sudo = await this.raw('sudo -n true');
    if (sudo.code !== 0) {
      throw new InvalidArgumentError(`${this.target} is not root and has no password-less sudo`, { hint: "use a root login (the driver's --*-ssh-user flag) or give that user NOPASSWD sudo" });
    }
    this.sudo = true;
  }

  run(command: string, opts: { stdin?: string | Buffer | Readable } = {}): Promise<RunResult> {
    return this.raw(this.sudo ? `sudo -n sh -c ${shq(command)}` : command, opts.stdin);
  }

  private async raw(command: string, stdin?: string | Buffer | Readable): Promise<RunResult> {
    const input = Buffer.isBuffer(stdin) ? Readable.from([stdin]) : stdin;
    debug(`SSH ${this.target}: ${command.length > 300 ? `${command.slice(0, 300)}…` : command}`);
    const res = await this.ssh.execCommand(command, { stdin: input, noTrim: true });
    debug(`SSH ${this.target}: exit ${res.code ?? 255}${res.stderr.trim() ? `, stderr: ${res.stderr.trim().split('\n').slice(-3).join(' / ')}` : ''}`);
    return { code: res.code ?? 255, stdout: res.stdout, stderr: res.stderr };
  }

  close(): void {
    this.ssh.dispose();
  }
}
