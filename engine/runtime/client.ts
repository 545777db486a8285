/**
 * The OCI runtime command line (berth-runtime, crun or runc): one exec per step.
 * The engine always passes `--root <exec-root>/runtime`.
 */
import { execFile } from 'node:child_process';
import { basename } from 'node:path';
import { ConflictError, EngineError, NotFoundError } from '../errors.js';

export interface RuntimeState {
  id: string;
  pid: number;
  status: 'creating' | 'created' | 'running' | 'stopped' | 'paused';
  bundle?: string;
  exitCode?: number;
  startedAt?: string;
  finishedAt?: string;
  oomKilled?: boolean;
}

export interface ExecOptions {
  processFile: string;
  monitorSocket?: string;
  exitFile?: string;
  pidFile?: string;
  detach?: boolean;
}

export class RuntimeError extends EngineError {}

export class RuntimeClient {
  /** berth-runtime runs a monitor per container; crun/runc don't. */
  readonly hasMonitor: boolean;

  constructor(readonly binary: string, readonly root: string) {
    this.hasMonitor = basename(binary).startsWith('berth-runtime');
  }

  private run(args: string[], timeoutMs = 30000): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(this.binary, ['--root', this.root, ...args], { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const msg = `${String(stderr).trim() || err.message}`.replace(/\s+/g, ' ');
        const what = `${basename(this.binary)} ${args[0]}`;
        if (/does not exist|not found|no such/i.test(msg) && !/exec/.test(args[0])) reject(new NotFoundError(`${what}: ${msg}`));
        else if (/not (running|paused)|is (running|paused|stopped)|cannot .* in .* state/i.test(msg)) reject(new ConflictError(`${what}: ${msg}`));
        else reject(new RuntimeError(`${what}: ${msg}`, { cause: err }));
      });
    });
  }

  async create(id: string, bundle: string, pidFile?: string): Promise<void> {
    await this.run(['create', '--bundle', bundle, ...(pidFile ? ['--pid-file', pidFile] : []), id]);
  }

  async start(id: string): Promise<void> {
    await this.run(['start', id]);
  }

  /** null when the runtime doesn't know the container. */
  async state(id: string): Promise<RuntimeState | null> {
    try {
      return JSON.parse(await this.run(['state', id])) as RuntimeState;
    } catch (err) {
      if (err instanceof NotFoundError) return null;
      throw err;
    }
  }

  async kill(id: string, signal: string | number): Promise<void> {
    await this.run(['kill', id, String(signal)]);
  }

  async delete(id: string, force = false): Promise<void> {
    try {
      await this.run(['delete', ...(force ? ['--force'] : []), id]);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }

  async pause(id: string): Promise<void> { await this.run(['pause', id]); }
  async resume(id: string): Promise<void> { await this.run(['resume', id]); }

  async update(id: string, resourcesFile: string): Promise<void> {
    await this.run(['update', '--resources', resourcesFile, id]);
  }

  /** Host pids of the container's processes. */
  async ps(id: string): Promise<number[]> {
    const out = await this.run(['ps', '--format', 'json', id]);
    return JSON.parse(out) as number[];
  }

  async exec(id: string, opts: ExecOptions): Promise<void> {
    const args = ['exec', '--process', opts.processFile];
    if (opts.monitorSocket) args.push('--monitor-socket', opts.monitorSocket);
    if (opts.exitFile) args.push('--exit-file', opts.exitFile);
    if (opts.pidFile) args.push('--pid-file', opts.pidFile);
    if (opts.detach ?? true) args.push('--detach');
    args.push(id);
    await this.run(args);
  }
}
