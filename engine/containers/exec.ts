/** docker exec: extra processes in a running container, each with its own monitor socket. */
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import type { Engine } from '../engine.js';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../errors.js';
import { writeFileAtomicAsync } from '../fsutil.js';
import { log } from '../log.js';
import { hostCapabilities } from '../runtime/security.js';
import type { OciSpec } from '../runtime/oci.js';
import { attach as monitorAttach, resize as monitorResize, waitExit, type ExitStatus } from '../runtime/monitor.js';
import { resolveUser } from '../runtime/user.js';
import { RuntimeError } from '../runtime/client.js';
import { mergeEnv } from './imageconfig.js';
import type { ContainerService } from './service.js';
import { isActive } from './state.js';

export interface ExecConfig {
  Cmd?: string[];
  Env?: string[] | null;
  WorkingDir?: string;
  User?: string;
  Privileged?: boolean;
  Tty?: boolean;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  DetachKeys?: string;
  ConsoleSize?: [number, number] | null;
}

interface ExecRecord {
  id: string;
  containerId: string;
  config: ExecConfig;
  running: boolean;
  exitCode: number | null;
  pid: number;
  started: boolean;
  exited?: Promise<ExitStatus>;
}

/** The exec's process could not start (missing executable, bad working dir): its exit code is set. */
export class ExecStartError extends InvalidArgumentError {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ExecService {
  private execs = new Map<string, ExecRecord>();

  constructor(private readonly engine: Engine, private readonly containers: ContainerService) {}

  idsOf(containerId: string): string[] {
    return [...this.execs.values()].filter((e) => e.containerId === containerId).map((e) => e.id);
  }

  get(id: string): ExecRecord {
    const e = this.execs.get(id);
    if (!e) throw new NotFoundError(`No such exec instance: ${id}`);
    return e;
  }

  create(ref: string, config: ExecConfig): { Id: string } {
    const rec = this.containers.get(ref);
    if (!config?.Cmd?.length) throw new InvalidArgumentError('No exec command specified');
    if (rec.state.status === 'paused') throw new ConflictError(`Container ${rec.id} is paused, unpause the container before exec`);
    if (!isActive(rec.state)) throw new ConflictError(`container ${rec.id} is not running`);
    const id = randomBytes(32).toString('hex');
    this.execs.set(id, { id, containerId: rec.id, config, running: false, exitCode: null, pid: 0, started: false });
    this.engine.events.emit({ Type: 'container', Action: `exec_create: ${config.Cmd.join(' ')}`, Actor: { ID: rec.id, Attributes: { image: rec.image, name: rec.name, execID: id } } });
    return { Id: id };
  }

  /** What start refuses before anything runs (answered as an HTTP error, before a hijack). */
  checkStartable(id: string): ExecRecord {
    const e = this.get(id);
    if (e.started) throw new ConflictError(`Error: Exec command ${id} has already run`);
    const rec = this.containers.get(e.containerId);
    if (!isActive(rec.state)) throw new ConflictError(`container ${rec.id} is not running`);
    return e;
  }

  /** Starts the process; returns the monitor connection when attached. */
  async start(id: string, opts: { detach: boolean; consoleSize?: [number, number] }): Promise<Socket | undefined> {
    const e = this.checkStartable(id);
    const rec = this.containers.get(e.containerId);
    if (!isActive(rec.state)) throw new ConflictError(`container ${rec.id} is not running`);
    e.started = true;
    const spec = JSON.parse(await readFile(`${this.containers.paths.bundle(rec.id)}/config.json`, 'utf8')) as OciSpec;
    const root = `/proc/${rec.state.pid}/root`;
    const user = e.config.User ? resolveUser(root, e.config.User) : spec.process.user;
    const caps = e.config.Privileged ? hostCapabilities() : spec.process.capabilities?.bounding ?? [];
    const tty = !!e.config.Tty;
    const size = opts.consoleSize ?? e.config.ConsoleSize ?? undefined;
    const proc = {
      ...spec.process,
      terminal: tty,
      args: e.config.Cmd!,
      env: mergeEnv(spec.process.env, [...(tty ? ['TERM=xterm'] : []), ...(e.config.Env ?? [])]),
      cwd: e.config.WorkingDir || spec.process.cwd,
      user: { uid: user.uid, gid: user.gid, ...('additionalGids' in user && user.additionalGids?.length ? { additionalGids: user.additionalGids } : {}) },
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      ...(size && size[0] && size[1] ? { consoleSize: { height: size[0], width: size[1] } } : {}),
    };
    delete (proc as { oomScoreAdj?: number }).oomScoreAdj;
    const dir = this.containers.paths.execDir(id);
    // exec-root: the rename keeps it whole for the runtime; a reboot has no use for it.
    await writeFileAtomicAsync(`${dir}/process.json`, JSON.stringify(proc), { durable: false });
    const socket = this.containers.paths.execSocket(id);
    const exitFile = `${dir}/exit.json`;
    const hasMonitor = this.containers.runtime.hasMonitor;
    try {
      await this.containers.runtime.exec(rec.id, {
        processFile: `${dir}/process.json`, pidFile: `${dir}/pid`, detach: true, stdin: !!e.config.AttachStdin && !opts.detach,
        ...(hasMonitor ? { monitorSocket: socket, exitFile } : {}),
      });
    } catch (err) {
      const msg = err instanceof RuntimeError ? err.message.replace(/^\S+ exec: (berth-runtime: )?/, '') : '';
      if (!/^exec `[^`]*`: |^chdir to cwd /.test(msg)) throw err;
      // As dockerd: the exec ran but its process could not start; a shell's exit code says why.
      e.exitCode = /^exec `[^`]*`: (executable file not found|no such file)/i.test(msg) ? 127 : 126;
      e.exited = Promise.resolve({ exitCode: e.exitCode, finishedAt: new Date().toISOString(), oomKilled: false });
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      throw new ExecStartError(`OCI runtime exec failed: ${msg}`);
    }
    e.running = true;
    e.pid = Number((await readFile(`${dir}/pid`, 'utf8').catch(() => '0')).trim()) || 0;
    this.engine.events.emit({ Type: 'container', Action: `exec_start: ${e.config.Cmd!.join(' ')}`, Actor: { ID: rec.id, Attributes: { image: rec.image, name: rec.name, execID: id } } });
    let conn: Socket | undefined;
    if (!opts.detach && hasMonitor) {
      try {
        conn = await monitorAttach(socket, { stdin: !!e.config.AttachStdin, stdout: e.config.AttachStdout !== false, stderr: e.config.AttachStderr !== false });
      } catch {
        // The process already exited without output: its monitor is gone, the exit file remains.
        conn = undefined;
      }
    }
    e.exited = this.watch(e, socket, exitFile);
    return conn;
  }

  private async watch(e: ExecRecord, socket: string, exitFile: string): Promise<ExitStatus> {
    let status: ExitStatus | undefined;
    if (this.containers.runtime.hasMonitor) {
      try {
        status = await waitExit(socket);
      } catch {
        // Monitor gone already: the exit file has the status.
      }
    }
    while (!status) {
      try {
        status = JSON.parse(await readFile(exitFile, 'utf8')) as ExitStatus;
      } catch {
        const rec = this.containers.store.find(e.containerId);
        if (!rec || !isActive(rec.state) || (e.pid && !pidAlive(e.pid))) status = { exitCode: rec && isActive(rec.state) ? 0 : 137, finishedAt: new Date().toISOString(), oomKilled: false };
        else await sleep(100);
      }
    }
    e.running = false;
    e.exitCode = status.exitCode;
    const rec = this.containers.store.find(e.containerId);
    if (rec) this.engine.events.emit({ Type: 'container', Action: 'exec_die', Actor: { ID: rec.id, Attributes: { image: rec.image, name: rec.name, execID: e.id, exitCode: String(status.exitCode) } } });
    await rm(this.containers.paths.execDir(e.id), { recursive: true, force: true }).catch(() => undefined);
    return status;
  }

  /** Records a start that failed before the process ran (126, as dockerd), unless already recorded. */
  failed(id: string): void {
    const e = this.get(id);
    e.started = true;
    if (e.exited) return;
    e.exitCode = 126;
    e.exited = Promise.resolve({ exitCode: 126, finishedAt: new Date().toISOString(), oomKilled: false });
  }

  /** Resolves once the exec's exit code is recorded. */
  async exited(id: string): Promise<void> {
    await this.get(id).exited;
  }

  async resize(id: string, h: number, w: number): Promise<void> {
    const e = this.get(id);
    if (!e.running) throw new ConflictError(`exec ${id} is not running`);
    if (!e.config.Tty) return;
    await monitorResize(this.containers.paths.execSocket(id), h, w).catch((err) => log.debug(`exec resize: ${(err as Error).message}`));
  }

  inspect(id: string): Record<string, unknown> {
    const e = this.get(id);
    return {
      ID: e.id, Running: e.running, ExitCode: e.exitCode, CanRemove: false, ContainerID: e.containerId,
      DetachKeys: e.config.DetachKeys ?? '', OpenStdin: !!e.config.AttachStdin, OpenStdout: e.config.AttachStdout !== false, OpenStderr: e.config.AttachStderr !== false,
      ProcessConfig: { tty: !!e.config.Tty, entrypoint: e.config.Cmd?.[0] ?? '', arguments: e.config.Cmd?.slice(1) ?? [], privileged: !!e.config.Privileged, user: e.config.User ?? '' },
      Pid: e.pid,
    };
  }

  /** Forgets execs of a removed container. */
  forget(containerId: string): void {
    for (const [id, e] of this.execs) if (e.containerId === containerId && !e.running) this.execs.delete(id);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
