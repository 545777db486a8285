import { Readable } from 'node:stream';
import { readFile } from 'node:fs/promises';
import { NodeSSH } from 'node-ssh';
import { InvalidArgumentError, TimeoutError, UnreachableError, reason } from '../errors.js';
import { debug } from '../debug.js';
import { ProcessOutput, shq, type CommandRunner, type RemoteProcess, type RunResult } from './index.js';

const AS_ROOT = '@berth:root';
const AS_SUDO = '@berth:sudo';
const NO_ROOT = '@berth:noroot';

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

  /**
   * Commands run as root: directly, or through password-less sudo. Which one is found
   * out by the first command itself (one round trip, not two): it is wrapped in a check
   * of `id -u` that says on its first line of output how it ran.
   */
  private rootCheck?: Promise<void>;

  async run(command: string, opts: { stdin?: string | Buffer | Readable } = {}): Promise<RunResult> {
    if (!this.rootCheck) {
      let settle!: (err?: unknown) => void;
      this.rootCheck = new Promise<void>((resolve, reject) => { settle = (err) => (err ? reject(err) : resolve()); });
      this.rootCheck.catch(() => undefined);
      try {
        const res = await this.firstRun(command, opts.stdin);
        settle();
        return res;
      } catch (err) {
        settle(err);
        throw err;
      }
    }
    await this.rootCheck;
    return this.raw(this.sudo ? `sudo -n sh -c ${shq(command)}` : command, opts.stdin);
  }

  private async firstRun(command: string, stdin?: string | Buffer | Readable): Promise<RunResult> {
    const q = shq(command);
    const res = await this.raw(`if [ "$(id -u)" = 0 ]; then echo ${AS_ROOT}; exec sh -c ${q}; ` +
      `elif sudo -n true 2>/dev/null; then echo ${AS_SUDO}; exec sudo -n sh -c ${q}; else echo ${NO_ROOT}; fi`, stdin);
    const nl = res.stdout.indexOf('\n');
    const how = res.stdout.slice(0, nl < 0 ? undefined : nl);
    // No answer at all (the session was cut): the next command asks again.
    if (how !== AS_ROOT && how !== AS_SUDO && how !== NO_ROOT) {
      this.rootCheck = undefined;
      return res;
    }
    if (how === NO_ROOT) {
      throw new InvalidArgumentError(`${this.target} is not root and has no password-less sudo`, { hint: "use a root login (the driver's --*-ssh-user flag) or give that user NOPASSWD sudo" });
    }
    this.sudo = how === AS_SUDO;
    return { ...res, stdout: res.stdout.slice(nl + 1) };
  }

  /**
   * The same for a command read while it runs. As the first command it waits for the
   * line that says how it runs (it comes before any of the command's own output).
   */
  async start(command: string): Promise<RemoteProcess> {
    if (this.rootCheck) {
      await this.rootCheck;
      return this.rawStart(this.sudo ? `sudo -n sh -c ${shq(command)}` : command);
    }
    let settle!: (err?: unknown) => void;
    this.rootCheck = new Promise<void>((resolve, reject) => { settle = (err) => (err ? reject(err) : resolve()); });
    this.rootCheck.catch(() => undefined);
    let head = '';
    let waiting = true;
    let said!: (line: string) => void;
    const how = new Promise<string>((resolve) => { said = resolve; });
    const q = shq(command);
    const proc = await this.rawStart(`if [ "$(id -u)" = 0 ]; then echo ${AS_ROOT}; exec sh -c ${q}; ` +
      `elif sudo -n true 2>/dev/null; then echo ${AS_SUDO}; exec sudo -n sh -c ${q}; else echo ${NO_ROOT}; fi`, (chunk) => {
      if (!waiting) return chunk;
      head += chunk;
      const nl = head.indexOf('\n');
      if (nl < 0) return '';
      said(head.slice(0, nl));
      waiting = false;
      return head.slice(nl + 1);
    }).catch((err) => { settle(err); throw err; });
    const line = await Promise.race([how, proc.done.then(() => '')]);
    if (line !== AS_ROOT && line !== AS_SUDO && line !== NO_ROOT) {
      // No answer at all (the session was cut): the next command asks again.
      this.rootCheck = undefined;
      settle();
      return proc;
    }
    if (line === NO_ROOT) {
      const err = new InvalidArgumentError(`${this.target} is not root and has no password-less sudo`, { hint: "use a root login (the driver's --*-ssh-user flag) or give that user NOPASSWD sudo" });
      settle(err);
      throw err;
    }
    this.sudo = line === AS_SUDO;
    settle();
    return proc;
  }

  private rawStart(command: string, filter: (chunk: string) => string = (c) => c): Promise<RemoteProcess> {
    debug(`SSH ${this.target}: ${command.length > 300 ? `${command.slice(0, 300)}…` : command}`);
    const conn = this.ssh.connection;
    if (!conn) return Promise.reject(new Error(`the SSH connection to ${this.target} is closed`));
    return new Promise((resolve, reject) => {
      conn.exec(command, (err, channel) => {
        if (err) return reject(err);
        const p = new ProcessOutput();
        let code: number | undefined;
        channel.setEncoding('utf8').on('data', (c: string) => p.stdout(filter(c)));
        channel.stderr.setEncoding('utf8').on('data', (c: string) => p.stderr(c));
        channel.on('exit', (c: number | null) => { code = c ?? 255; });
        channel.on('close', () => {
          const r = code ?? 255;
          debug(`SSH ${this.target}: exit ${r}`);
          p.end(r);
        });
        channel.on('error', () => undefined); // the connection's end closes the channel too
        resolve(Object.assign(p, { stdin: channel }));
      });
    });
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
