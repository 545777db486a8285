/**
 * The agent every swarm node runs: it watches the tasks assigned to its node, runs
 * them as containers of this engine (named SERVICE.SLOT.TASKID, labelled
 * com.docker.swarm.*), reports their state to the store, stops them when their
 * desired state leaves "running", and removes containers of tasks that are gone.
 *
 * Secrets and configs are written into a tmpfs mounted for the task under
 * exec-root/swarm/tasks/<task id>/ and bind-mounted read-only into the container
 * (secrets at /run/secrets/NAME): their bytes never touch this node's disk.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import type { Engine } from '../engine.js';
import type { ContainerService } from '../containers/service.js';
import type { ContainerRecord } from '../containers/record.js';
import { log } from '../log.js';
import { isTerminal, nowIso, stateRank } from './spec.js';
import type { Obj, Store } from './store.js';
import type { NetAgent } from './netagent.js';

const run = promisify(execFile);
const TICK_MS = 2000;
export const TASK_LABEL = 'com.docker.swarm.task.id';

export interface AgentDeps {
  nodeId: string;
  store: Store;
  engine: Engine;
  /** Writes a task's new status at `version`; returns the new version (workers write through a manager). */
  updateTask(id: string, value: unknown, version: number): Promise<number>;
  /** A secret's plain value (managers unseal it, workers ask a manager). */
  secret(id: string): Promise<Buffer>;
  /** Swarm networking of this node (overlays, VIPs, ingress), synced on every pass. */
  net?: NetAgent;
}

export class Agent {
  private readonly busy = new Set<string>();
  private timer?: NodeJS.Timeout;
  private closeWatch?: () => Promise<void>;
  private closeEvents?: () => void;
  private stopped = false;
  private running = false;
  private again = false;
  readonly tasksDir: string;

  constructor(private readonly d: AgentDeps) {
    this.tasksDir = join(d.engine.config.execRoot, 'swarm', 'tasks');
  }

  private get containers(): ContainerService {
    return this.d.engine.containers as unknown as ContainerService;
  }

  async start(): Promise<void> {
    mkdirSync(this.tasksDir, { recursive: true, mode: 0o700 });
    this.closeWatch = await this.d.store.watch(['tasks', 'networks', 'services'], () => this.kick());
    const sub = this.d.engine.events.subscribe({ type: ['container'], event: ['die'] });
    this.closeEvents = () => sub.close();
    void (async () => {
      for await (const e of sub) if (e.Actor.Attributes[TASK_LABEL]) this.kick();
    })();
    this.timer = setInterval(() => this.kick(), TICK_MS);
    this.timer.unref();
    this.kick();
  }

  async stop(removeAll: boolean): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.closeEvents?.();
    await this.closeWatch?.();
    while (this.running || this.busy.size) await new Promise((r) => setTimeout(r, 50));
    if (!removeAll) return;
    for (const rec of this.swarmContainers()) await this.removeContainer(rec, 2);
    for (const id of existsSync(this.tasksDir) ? readdirSync(this.tasksDir) : []) await this.dropFiles(id);
    await this.d.net?.close(true);
  }

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.reconcile()
      .catch((err) => log.debug(`swarm agent: ${(err as Error).message}`))
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          setTimeout(() => this.kick(), 50);
        }
      });
  }

  private swarmContainers(): ContainerRecord[] {
    return this.containers.list().filter((r) => r.config.Labels?.[TASK_LABEL]);
  }

  private async reconcile(): Promise<void> {
    const all = await this.d.store.list<any>('tasks');
    const mine = all.filter((t) => t.value.NodeID === this.d.nodeId);
    // networks before tasks: a task's overlays exist here before its container starts
    await this.d.net?.sync(all).catch((err) => log.warn(`swarm networking: ${(err as Error).message}`));
    const byTask = new Map(this.swarmContainers().map((r) => [r.config.Labels![TASK_LABEL], r]));
    for (const t of mine) {
      if (this.busy.has(t.id)) continue;
      this.busy.add(t.id);
      void this.step(t, byTask.get(t.id))
        .catch((err) => log.warn(`swarm agent: task ${t.id}: ${(err as Error).message}`))
        .finally(() => this.busy.delete(t.id));
    }
    const known = new Set(mine.map((t) => t.id));
    for (const [taskId, rec] of byTask) {
      if (known.has(taskId) || this.busy.has(taskId)) continue;
      this.busy.add(taskId);
      void this.removeContainer(rec, 2).then(() => this.dropFiles(taskId)).finally(() => this.busy.delete(taskId));
    }
  }

  private async report(t: Obj<any>, status: Record<string, unknown>): Promise<void> {
    await this.d.updateTask(t.id, { ...t.value, Status: { ...t.value.Status, Timestamp: nowIso(), ...status }, UpdatedAt: nowIso() }, t.version);
  }

  private async step(t: Obj<any>, rec: ContainerRecord | undefined): Promise<void> {
    const v = t.value;
    const state: string = v.Status.State;
    if (v.DesiredState !== 'running') {
      if (rec) await this.removeContainer(rec, stopTimeout(v.Spec));
      await this.dropFiles(t.id);
      if (!isTerminal(state)) await this.report(t, { State: 'shutdown', Message: 'shutdown', ContainerStatus: { ...(v.Status.ContainerStatus ?? {}), ExitCode: 0 } });
      return;
    }
    if (isTerminal(state)) return;
    if (rec) {
      const cs = rec.state;
      if (cs.status === 'exited' || cs.status === 'dead') {
        const code = 'exitCode' in cs ? cs.exitCode : 0;
        await this.report(t, code === 0
          ? { State: 'complete', Message: 'finished', ContainerStatus: { ContainerID: rec.id, PID: 0, ExitCode: 0 } }
          : { State: 'failed', Message: 'started', Err: `task: non-zero exit (${code})`, ContainerStatus: { ContainerID: rec.id, PID: 0, ExitCode: code } });
      } else if (cs.status === 'running' && state !== 'running') {
        await this.report(t, { State: 'running', Message: 'started', ContainerStatus: { ContainerID: rec.id, PID: cs.pid, ExitCode: 0 } });
      }
      return;
    }
    if (stateRank(state) >= stateRank('starting')) {
      await this.report(t, { State: 'failed', Message: 'started', Err: 'task: container is gone' });
      return;
    }
    await this.launch(t);
  }

  private async launch(t: Obj<any>): Promise<void> {
    const v = t.value;
    const cs = v.Spec.ContainerSpec;
    let version = await this.d.updateTask(t.id, { ...v, Status: { Timestamp: nowIso(), State: 'preparing', Message: 'preparing' }, UpdatedAt: nowIso() }, t.version);
    const fail = async (state: 'rejected' | 'failed', err: string) => {
      await this.d.updateTask(t.id, { ...v, Status: { Timestamp: nowIso(), State: state, Message: state === 'rejected' ? 'preparing' : 'starting', Err: err }, UpdatedAt: nowIso() }, version);
    };
    try {
      await this.d.engine.images.resolve(cs.Image);
    } catch {
      try {
        await this.d.engine.images.pull(cs.Image);
      } catch (err) {
        return fail('rejected', `No such image: ${cs.Image} (${(err as Error).message})`);
      }
    }
    let mounts: any[];
    try {
      mounts = [...(cs.Mounts ?? []).map(mountOf), ...(await this.writeFiles(t.id, cs))];
    } catch (err) {
      return fail('rejected', `secrets/configs: ${(err as Error).message}`);
    }
    const name = `${v.ServiceName}.${v.Slot || v.NodeID}.${t.id}`;
    const labels = {
      ...(cs.Labels ?? {}),
      'com.docker.swarm.service.id': v.ServiceID, 'com.docker.swarm.service.name': v.ServiceName,
      'com.docker.swarm.task': '', [TASK_LABEL]: t.id, 'com.docker.swarm.task.name': `${v.ServiceName}.${v.Slot || v.NodeID}.${t.id}`,
      'com.docker.swarm.node.id': v.NodeID,
    };
    const limits = v.Spec.Resources?.Limits ?? {};
    const attachments: any[] = v.NetworksAttachments ?? [];
    const aliasesOf = (netId: string) => (v.Spec.Networks ?? []).find((n: any) => n.Target === netId)?.Aliases ?? [];
    const hostPorts = (v.Endpoint?.Ports ?? []).filter((p: any) => p.PublishMode === 'host');
    const network = attachments.length ? {
      NetworkMode: attachments[0].Network.ID,
      EndpointsConfig: Object.fromEntries(attachments.map((a) => [a.Network.ID, { IPAMConfig: { IPv4Address: a.Addresses[0].split('/')[0] }, Aliases: aliasesOf(a.Network.ID) }])),
    } : undefined;
    let id: string;
    try {
      ({ Id: id } = await this.containers.create({
        Image: cs.Image, Labels: labels, Env: cs.Env, User: cs.User, WorkingDir: cs.Dir, Hostname: cs.Hostname,
        Tty: cs.TTY, OpenStdin: cs.OpenStdin, StopSignal: cs.StopSignal, Healthcheck: cs.Healthcheck,
        ...(cs.Command ? { Entrypoint: cs.Command } : {}), ...(cs.Args ? { Cmd: cs.Args } : {}),
        StopTimeout: stopTimeout(v.Spec),
        ...(network ? { NetworkingConfig: { EndpointsConfig: network.EndpointsConfig } } : {}),
        ...(hostPorts.length ? { ExposedPorts: Object.fromEntries(hostPorts.map((p: any) => [`${p.TargetPort}/${p.Protocol}`, {}])) } : {}),
        HostConfig: {
          ...(network ? { NetworkMode: network.NetworkMode } : {}),
          ...(hostPorts.length ? { PortBindings: Object.fromEntries(hostPorts.map((p: any) => [`${p.TargetPort}/${p.Protocol}`, [{ HostPort: p.PublishedPort ? String(p.PublishedPort) : '' }]])) } : {}),
          Mounts: mounts, Init: cs.Init ?? undefined, ReadonlyRootfs: cs.ReadOnly, GroupAdd: cs.Groups, Sysctls: cs.Sysctls,
          CapAdd: cs.CapabilityAdd, CapDrop: cs.CapabilityDrop, NanoCpus: limits.NanoCPUs, Memory: limits.MemoryBytes,
        },
      } as never, name));
    } catch (err) {
      await this.dropFiles(t.id);
      return fail('rejected', (err as Error).message);
    }
    version = await this.d.updateTask(t.id, { ...v, Status: { Timestamp: nowIso(), State: 'starting', Message: 'starting', ContainerStatus: { ContainerID: id, PID: 0, ExitCode: 0 } }, UpdatedAt: nowIso() }, version);
    try {
      await this.containers.start(id);
    } catch (err) {
      return fail('failed', (err as Error).message);
    }
    const rec = this.containers.get(id);
    const pid = rec.state.status === 'running' ? rec.state.pid : 0;
    await this.d.updateTask(t.id, { ...v, Status: { Timestamp: nowIso(), State: 'running', Message: 'started', ContainerStatus: { ContainerID: id, PID: pid, ExitCode: 0 } }, UpdatedAt: nowIso() }, version);
  }

  /** Secrets and configs of a task into its own tmpfs; returns the bind mounts. */
  private async writeFiles(taskId: string, cs: any): Promise<any[]> {
    const refs = [
      ...(cs.Secrets ?? []).map((s: any) => ({ kind: 'secrets' as const, id: s.SecretID, name: s.SecretName, file: s.File ?? {} })),
      ...(cs.Configs ?? []).map((c: any) => ({ kind: 'configs' as const, id: c.ConfigID, name: c.ConfigName, file: c.File ?? {} })),
    ];
    if (!refs.length) return [];
    const dir = join(this.tasksDir, taskId);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!(await isMountpoint(dir))) await run('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0700', 'tmpfs', dir]);
    const out: any[] = [];
    for (const [i, r] of refs.entries()) {
      const data = r.kind === 'secrets' ? await this.d.secret(r.id) : await this.config(r.id);
      const fileName = r.file.Name || r.name;
      const target = posix.isAbsolute(fileName) ? fileName : r.kind === 'secrets' ? posix.join('/run/secrets', fileName) : posix.join('/', fileName);
      const src = join(dir, `${r.kind}-${i}`);
      writeFileSync(src, data, { mode: r.file.Mode ?? 0o444 });
      chownSync(src, Number(r.file.UID ?? 0), Number(r.file.GID ?? 0));
      out.push({ Type: 'bind', Source: src, Target: target, ReadOnly: true });
    }
    return out;
  }

  private async config(id: string): Promise<Buffer> {
    const o = await this.d.store.get<any>('configs', id);
    if (!o) throw new Error(`config ${id} not found`);
    return Buffer.from(o.value.Data, 'base64');
  }

  private async dropFiles(taskId: string): Promise<void> {
    const dir = join(this.tasksDir, taskId);
    if (!existsSync(dir)) return;
    if (await isMountpoint(dir)) await run('umount', ['-l', dir]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }

  private async removeContainer(rec: ContainerRecord, timeout: number): Promise<void> {
    try {
      if (rec.state.status === 'running' || rec.state.status === 'paused') await this.containers.stop(rec.id, { timeout });
      await this.containers.remove(rec.id, { force: true });
    } catch (err) {
      log.debug(`swarm agent: removing ${rec.name}: ${(err as Error).message}`);
    }
  }
}

function stopTimeout(spec: any): number {
  const ns = spec.ContainerSpec?.StopGracePeriod;
  return typeof ns === 'number' ? Math.ceil(ns / 1e9) : 10;
}

function mountOf(m: any): any {
  return { Type: m.Type ?? 'volume', Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly, BindOptions: m.BindOptions, VolumeOptions: m.VolumeOptions, TmpfsOptions: m.TmpfsOptions };
}

async function isMountpoint(dir: string): Promise<boolean> {
  try {
    await run('mountpoint', ['-q', dir]);
    return true;
  } catch {
    return false;
  }
}
