/**
 * The OCI runtime command line (berth-runtime, crun or runc): one exec per step.
 * The engine always passes `--root <exec-root>/runtime`.
 */
import { execFile, spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { ConflictError, EngineError, NotFoundError } from '../errors.js';
import { spawner } from './spawner.js';

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
  /** berth-runtime: give the process a stdin pipe (closed at the first client's half-close). */
  stdin?: boolean;
}

export class RuntimeError extends EngineError {}

export class RuntimeClient {
  /** berth-runtime runs a monitor per container; crun/runc don't. */
  readonly hasMonitor: boolean;

  constructor(readonly binary: string, readonly root: string) {
    this.hasMonitor = basename(binary).startsWith('berth-runtime');
  }

  private fail(args: string[], msg: string, cause?: unknown): EngineError {
    const what = `${basename(this.binary)} ${args[0]}`;
    msg = msg.replace(/\s+/g, ' ').trim();
    if (/does not exist|not found|no such/i.test(msg) && !/exec/.test(args[0])) return new NotFoundError(`${what}: ${msg}`);
    if (/not (running|paused)|is (running|paused|stopped)|cannot .* in .* state/i.test(msg)) return new ConflictError(`${what}: ${msg}`);
    return new RuntimeError(`${what}: ${msg}`, { cause });
  }

  /** `output`: the command's stdout is wanted (state, ps); the others only say how they failed. */
  private async run(args: string[], output = false, timeoutMs = 30000): Promise<string> {
    const helper = spawner();
    if (helper) {
      const argv = ['--root', this.root, ...args];
      const capture = { stdout: output, stderr: true };
      const r = await (helper.isRuntime(this.binary) ? helper.runtime(argv, capture) : helper.run([this.binary, ...argv], capture));
      if (r.code === 0) return r.stdout;
      throw this.fail(args, r.stderr || `exited with status ${r.code}`);
    }
    return new Promise((resolve, reject) => {
      execFile(this.binary, ['--root', this.root, ...args], { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        reject(this.fail(args, String(stderr).trim() || err.message, err));
      });
    });
  }

  /**
   * The container inherits create's stdio: with pipes, create would not return until
   * the container exits. So stdio is /dev/null and errors come from --log.
   */
  async create(id: string, bundle: string, pidFile?: string): Promise<void> {
    await this.spawnDetached('create', id, bundle, pidFile);
  }

  /** create + start in one exec (`run --detach`), for a container nobody attaches to first. */
  async runDetached(id: string, bundle: string, pidFile?: string): Promise<void> {
    await this.spawnDetached('run', id, bundle, pidFile);
  }

  private async spawnDetached(verb: 'create' | 'run', id: string, bundle: string, pidFile?: string): Promise<void> {
    const logFile = `${bundle}/runtime.log`;
    const args = ['--root', this.root, '--log', logFile, '--log-format', 'json', verb, ...(verb === 'run' ? ['--detach'] : []), '--bundle', bundle, ...(pidFile ? ['--pid-file', pidFile] : []), id];
    const helper = spawner();
    const code = helper
      ? (await (helper.isRuntime(this.binary) ? helper.runtime(args, { stdout: false, stderr: false }) : helper.run([this.binary, ...args], { stdout: false, stderr: false }))).code
      : await new Promise<number>((resolve, reject) => {
        const child = spawn(this.binary, args, { stdio: 'ignore' });
        child.on('error', reject);
        child.on('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
      });
    if (code === 0) {
      // Usually there is none (the runtime writes it only to say what went wrong): not
      // worth a wait on the thread pool in the middle of a start.
      void rm(logFile, { force: true }).catch(() => undefined);
      return;
    }
    const log = await readFile(logFile, 'utf8').catch(() => '');
    await rm(logFile, { force: true });
    const msgs = log.split('\n').filter(Boolean).map((l) => {
      try {
        const j = JSON.parse(l) as { level?: string; msg?: string };
        return j.level === 'error' || j.level === 'fatal' ? j.msg ?? '' : '';
      } catch {
        return l;
      }
    }).filter(Boolean);
    const msg = msgs.join('; ') || `exited with status ${code}`;
    throw new RuntimeError(`${basename(this.binary)} ${verb}: ${msg}`);
  }

  async start(id: string): Promise<void> {
    await this.run(['start', id]);
  }

  /** null when the runtime doesn't know the container. */
  async state(id: string): Promise<RuntimeState | null> {
    try {
      return JSON.parse(await this.run(['state', id], true)) as RuntimeState;
    } catch (err) {
      if (err instanceof NotFoundError) return null;
      throw err;
    }
  }

  async kill(id: string, signal: string | number): Promise<void> {
    await this.run(['kill', id, String(signal)]);
  }

  /**
   * Deleting is idempotent: a delete that died half-way (killed after it killed the
   * processes, or between the cgroup and the state directory) is finished by a second.
   */
  async delete(id: string, force = false): Promise<void> {
    const args = ['delete', ...(force ? ['--force'] : []), id];
    try {
      await this.run(args);
    } catch (err) {
      if (err instanceof NotFoundError) return;
      if (err instanceof ConflictError) throw err;
      try {
        await this.run(args);
      } catch (again) {
        if (!(again instanceof NotFoundError)) throw again;
      }
    }
  }

  async pause(id: string): Promise<void> { await this.run(['pause', id]); }
  async resume(id: string): Promise<void> { await this.run(['resume', id]); }

  async update(id: string, resourcesFile: string): Promise<void> {
    await this.run(['update', '--resources', resourcesFile, id]);
  }

  /** Host pids of the container's processes. */
  async ps(id: string): Promise<number[]> {
    const out = await this.run(['ps', '--format', 'json', id], true);
    return JSON.parse(out) as number[];
  }

  async exec(id: string, opts: ExecOptions): Promise<void> {
    const args = ['exec', '--process', opts.processFile];
    if (opts.monitorSocket) args.push('--monitor-socket', opts.monitorSocket);
    if (opts.exitFile) args.push('--exit-file', opts.exitFile);
    if (opts.pidFile) args.push('--pid-file', opts.pidFile);
    if (opts.stdin && this.hasMonitor) args.push('--stdin', '--stdin-once');
    if (opts.detach ?? true) args.push('--detach');
    args.push(id);
    await this.run(args);
  }
}
