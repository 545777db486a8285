/**
 * The containers service: lifecycle of containers from create to remove, exit
 * handling with restart policies, and re-adoption of running containers on start.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../engine.js';
import { ConflictError, EngineError, InvalidArgumentError, NotModifiedError, NotFoundError } from '../errors.js';
import { log } from '../log.js';
import { RuntimeClient, RuntimeError } from '../runtime/client.js';
import { removeTree } from '../runtime/spawner.js';
import { attach as monitorAttach, resize as monitorResize, startProcess, waitExit, type ExitStatus } from '../runtime/monitor.js';
import { validateResources, toOciResources } from '../runtime/resources.js';
import { capabilitySet, parseSecurityOpt } from '../runtime/security.js';
import { writeFileAtomicAsync } from '../fsutil.js';
import { prepareBundle, type BundleContext } from './bundle.js';
import { traced } from '../trace.js';
import { commandOf, mergeImageConfig } from './imageconfig.js';
import { KeyedMutex } from './lock.js';
import { parseMounts } from './mounts.js';
import { anonymousVolumes, volumesFrom } from '../volumes/implicit.js';
import { normalizeName, randomName } from './names.js';
import { ContainerPaths } from './paths.js';
import type { ContainerRecord } from './record.js';
import { Backoff, shouldRestart, startsWithEngine, validateRestartPolicy } from './restart-policy.js';
import { unmountRootfs } from './rootfs.js';
import { endStray, strayMonitors } from './strays.js';
import { initialState, isActive, transition, type StateEvent } from './state.js';
import { ContainerStore } from './store.js';
import type { CreateRequest, HostConfig } from './types.js';
import type { DaemonConfig } from '../config.js';
import { HealthChecks } from './health.js';
import { requireImagePlatform, type Platform } from '../images/platform.js';
import { Waiters, type WaitCondition, type WaitResult } from './waiters.js';
import type { Socket } from 'node:net';
import type { Networking } from '../networks/index.js';
import type { VolumeUser } from '../volumes/index.js';

export interface PendingAttach {
  streams: { stdin: boolean; stdout: boolean; stderr: boolean };
  connected(sock: Socket): void;
  failed(err: Error): void;
}

const SIGNALS: Record<string, number> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9,
  SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGSTKFLT: 16, SIGCHLD: 17,
  SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25,
  SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29, SIGPWR: 30, SIGSYS: 31,
};

export function parseSignal(sig: string | number | undefined, fallback = 'SIGKILL'): number {
  const s = String(sig ?? '').trim() || fallback;
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n < 1 || n > 64) throw new InvalidArgumentError(`Invalid signal: ${s}`);
    return n;
  }
  const up = s.toUpperCase();
  const n = SIGNALS[up.startsWith('SIG') ? up : `SIG${up}`];
  if (!n) throw new InvalidArgumentError(`Invalid signal: ${s}`);
  return n;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ContainerService {
  readonly store: ContainerStore;
  readonly paths: ContainerPaths;
  readonly runtime: RuntimeClient;
  private readonly mutex = new KeyedMutex();
  private readonly waiters = new Waiters();
  private readonly backoff = new Backoff();
  private readonly pendingAttach = new Map<string, Set<PendingAttach>>();
  private readonly restartTimers = new Map<string, NodeJS.Timeout>();
  private readonly watching = new Set<string>();
  private closing = false;
  /** Set by index.ts once the exec service exists. */
  execs!: import('./exec.js').ExecService;
  readonly health: HealthChecks;

  constructor(readonly engine: Engine, runtimeBinary: string, readonly initBinary: string) {
    this.paths = new ContainerPaths(engine.config.dataRoot, engine.config.execRoot);
    this.store = new ContainerStore(this.paths.containersRoot());
    this.runtime = new RuntimeClient(runtimeBinary, this.paths.runtimeRoot());
    this.health = new HealthChecks(engine, () => this.execs);
  }

  private event(rec: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.engine.events.emit({
      Type: 'container', Action: action,
      Actor: { ID: rec.id, Attributes: { ...(rec.config.Labels ?? {}), image: rec.image, name: rec.name, ...extra } },
    });
  }

  private async setState(rec: ContainerRecord, ev: StateEvent): Promise<void> {
    rec.state = transition(rec.id, rec.state, ev);
    await this.store.save(rec);
  }

  get(ref: string): ContainerRecord {
    return this.store.get(ref);
  }

  list(): ContainerRecord[] {
    return this.store.all();
  }

  counts(): { running: number; paused: number; stopped: number } {
    const c = { running: 0, paused: 0, stopped: 0 };
    for (const r of this.store.all()) {
      if (r.state.status === 'running') c.running++;
      else if (r.state.status === 'paused') c.paused++;
      else c.stopped++;
    }
    return c;
  }

  usingImage(imageId: string): string | undefined {
    return this.store.all().find((r) => r.imageId === imageId)?.id;
  }

  // ---- create ----

  /** `platform` (create ?platform=): the image must be of that platform. */
  async create(req: CreateRequest, name: string | undefined, platform?: Platform): Promise<{ Id: string; Warnings: string[] }> {
    if (!req || typeof req !== 'object') throw new InvalidArgumentError('config cannot be empty in order to create a container');
    if (!req.Image) throw new InvalidArgumentError('no image specified: give an image name in "Image"');
    const hc: HostConfig = withDaemonDefaults({ ...(req.HostConfig ?? {}) }, this.engine.config);
    validateResources(hc);
    validateRestartPolicy(hc.RestartPolicy, !!hc.AutoRemove);
    const caps = capabilitySet(hc);
    const warnings = parseSecurityOpt(hc, caps).warnings;
    const mounts = parseMounts(hc);
    const nm = hc.NetworkMode || 'default';
    if (!this.engine.networking && !['default', 'bridge', 'none', 'host'].includes(nm) && !nm.startsWith('container:')) {
      throw new NotFoundError(`network ${nm} not found`);
    }
    // `local` keeps its logs as json-file does (read back through the API alike).
    if (hc.LogConfig?.Type && !['json-file', 'local', 'none', ''].includes(hc.LogConfig.Type)) {
      throw new InvalidArgumentError(`error looking up logging plugin ${hc.LogConfig.Type}: plugin "${hc.LogConfig.Type}" not found`);
    }
    validateNamespaceModes(hc);
    validateConfig(req);
    // An explicit "" is the daemon's default, as dockerd stores it.
    if (!hc.IpcMode) hc.IpcMode = 'private';
    const image = await traced('create: image', '', () => this.engine.images.resolve(req.Image!));
    if (platform) requireImagePlatform(req.Image, image.config, platform);
    const { HostConfig: _h, NetworkingConfig: _n, ...config } = req;
    const merged = mergeImageConfig(config, image);
    const { path, args } = commandOf(merged);
    // Config.Volumes (image VOLUMEs, `-v /path`) without a mount of their own become anonymous volumes.
    for (const target of Object.keys(merged.Volumes ?? {})) {
      if (!mounts.some((m) => m.target === target.replace(/\/$/, ''))) mounts.push({ type: 'volume', source: '', target: target.replace(/\/$/, '') || target, readOnly: false, options: [] });
    }
    // engine/volumes: --volumes-from, then anonymous volumes for Config.Volumes (image VOLUME, -v /path)
    mounts.push(...volumesFrom((hc as { VolumesFrom?: string[] }).VolumesFrom, (ref) => this.get(ref).mounts, mounts));
    mounts.push(...anonymousVolumes(merged.Volumes, mounts));
    // As dockerd: an anonymous volume has its name from create on (inspect shows it before start).
    for (const m of mounts) if (m.type === 'volume' && !m.source && !m.name) m.name = randomBytes(32).toString('hex');

    const id = randomBytes(32).toString('hex');
    let finalName: string;
    if (name) {
      finalName = normalizeName(name);
      this.store.reserveName(finalName, id);
    } else {
      let attempt = 0;
      do finalName = randomName(attempt++); while (this.store.hasName(finalName));
      this.store.reserveName(finalName, id);
    }
    const dir = this.paths.dir(id);
    let links: string[] | undefined;
    try {
      links = this.normalizeLinks(hc.Links as string[] | null | undefined, finalName);
    } catch (err) {
      this.store.releaseName(finalName, id);
      throw err;
    }
    if (links) hc.Links = links;
    const rec: ContainerRecord = {
      id, name: finalName, created: new Date().toISOString(), image: req.Image, imageId: image.id,
      path, args, config: { ...merged, Hostname: merged.Hostname || id.slice(0, 12), Image: req.Image },
      hostConfig: { NetworkMode: nm, ...hc, RestartPolicy: hc.RestartPolicy ?? { Name: 'no', MaximumRetryCount: 0 }, LogConfig: hc.LogConfig?.Type ? hc.LogConfig : { Type: 'json-file', Config: hc.LogConfig?.Config ?? {} } },
      state: initialState(), restartCount: 0, manuallyStopped: false, mounts,
      networkSettings: { Networks: req.NetworkingConfig?.EndpointsConfig ?? {} }, snapshotKey: id, driver: this.engine.snapshots.driver,
      logPath: join(dir, `${id}-json.log`), hostnamePath: join(dir, 'hostname'), hostsPath: join(dir, 'hosts'), resolvConfPath: join(dir, 'resolv.conf'),
    };
    // The snapshot and the record are written together (their fsyncs overlap). A crash
    // that leaves the record without its snapshot is a create nobody was told of: init()
    // discards a created container whose snapshot is missing. The mutex keeps a start or
    // remove (by name) from seeing the record before its snapshot.
    await this.mutex.run(id, async () => {
      const [snap, saved] = await Promise.allSettled([
        traced('create: snapshot', id, () => this.engine.snapshots.prepare(id, image.chainId)),
        traced('create: save record', id, () => this.store.save(rec)),
      ]);
      if (snap.status === 'fulfilled' && saved.status === 'fulfilled') return;
      this.store.releaseName(finalName, id);
      await this.store.delete(id).catch(() => undefined);
      await this.store.removeDir(id).catch(() => undefined);
      await this.engine.snapshots.remove(id).catch(() => undefined);
      throw snap.status === 'rejected' ? snap.reason : (saved as PromiseRejectedResult).reason;
    });
    this.event(rec, 'create');
    return { Id: id, Warnings: warnings };
  }

  /** --link "other[:alias]" as dockerd stores it: "/other:/me/alias" (the target must exist). */
  private normalizeLinks(links: string[] | null | undefined, me: string): string[] | undefined {
    if (!links?.length) return undefined;
    return links.map((l) => {
      const [target, alias] = l.split(':');
      const name = target.replace(/^\//, '');
      if (!name) throw new InvalidArgumentError(`invalid link ${JSON.stringify(l)}: use NAME[:ALIAS]`);
      const other = this.store.find(name);
      // 400, not 404: clients treat a 404 from create as "image missing" and pull.
      if (!other) throw new InvalidArgumentError(`could not get container for ${name}`);
      const aliasName = (alias ?? name).replace(/^.*\//, '');
      return `/${other.name}:/${me}/${aliasName}`;
    });
  }

  /** DELETE /containers/{me/alias}?link=1: drops the link; the containers stay. */
  async removeLink(path: string): Promise<void> {
    const full = `/${path.replace(/^\//, '')}`;
    const parentName = full.slice(1, full.lastIndexOf('/'));
    const rec = parentName ? this.store.find(parentName) : undefined;
    const links = (rec?.hostConfig.Links as string[] | null | undefined) ?? [];
    const kept = links.filter((l) => l.split(':')[1] !== full);
    if (!rec || kept.length === links.length) throw new NotFoundError(`Could not find link ${full}`);
    rec.hostConfig.Links = kept.length ? kept : null;
    await this.store.save(rec);
  }

  // ---- start ----

  async start(ref: string, consoleSize?: { height: number; width: number }): Promise<void> {
    const rec = this.get(ref);
    await this.mutex.run(rec.id, async () => {
      if (isActive(rec.state)) throw new NotModifiedError('container already started');
      if (rec.state.status === 'removing' || rec.state.status === 'dead') throw new ConflictError(`cannot start container ${rec.id.slice(0, 12)}: it is being removed`);
      this.cancelRestart(rec.id);
      rec.manuallyStopped = false;
      await this.startLocked(rec, consoleSize);
    });
  }

  private ctx(): BundleContext {
    return {
      engine: this.engine, paths: this.paths, initBinary: this.initBinary, hasMonitor: this.runtime.hasMonitor,
      containerNetns: (ref) => {
        const other = this.get(ref);
        if (!isActive(other.state)) throw new ConflictError(`cannot join network of a non running container: ${ref}`);
        return `/proc/${other.state.pid}/ns/net`;
      },
      container: (ref) => this.store.find(ref),
      containerNs: (ref, type) => {
        const other = this.get(ref);
        if (!isActive(other.state)) throw new ConflictError(`cannot join ${type.toUpperCase()} of a non running container: ${ref}`);
        return `/proc/${other.state.pid}/ns/${type}`;
      },
    };
  }

  private async startLocked(rec: ContainerRecord, consoleSize?: { height: number; width: number }): Promise<void> {
    let networkAttached = false;
    try {
      const prepared = await traced('start: bundle', rec.id, () => prepareBundle(rec, this.ctx(), consoleSize));
      networkAttached = prepared.networkAttached;
      if (this.runtimeKnows(rec.id)) await this.runtime.delete(rec.id, true);
      let pidRead: Promise<string> | undefined;
      if (this.pendingAttach.get(rec.id)?.size) {
        // Attached clients must be connected between create and start to see all output.
        await traced('start: runtime create', rec.id, () => this.runtime.create(rec.id, prepared.bundle, this.paths.pidFile(rec.id)));
        // Written by create: read while the attaches connect and the process starts.
        pidRead = readFile(this.paths.pidFile(rec.id), 'utf8');
        pidRead.catch(() => undefined);
        await traced('start: connect attach', rec.id, () => this.connectPendingAttaches(rec));
        if (this.runtime.hasMonitor) {
          // The monitor protocol's START: the same as `berth-runtime start`, one exec fewer.
          await traced('start: runtime start', rec.id, () => startProcess(this.paths.monitorSocket(rec.id))).catch((err: Error) => { throw new RuntimeError(`berth-runtime start: ${err.message}`); });
        } else {
          await this.runtime.start(rec.id);
        }
      } else {
        await traced('start: runtime run', rec.id, () => this.runtime.runDetached(rec.id, prepared.bundle, this.paths.pidFile(rec.id)));
      }
      const pid = Number((await (pidRead ?? readFile(this.paths.pidFile(rec.id), 'utf8'))).trim());
      rec.state = transition(rec.id, rec.state, { type: 'start', pid, at: new Date().toISOString() });
      // Not awaited: after a crash before this write lands, restore finds the container
      // running in the runtime and records it so. Writes stay ordered per container.
      void this.store.save(rec).catch((err) => log.error(`container ${rec.id.slice(0, 12)}: saving its state: ${(err as Error).message}`));
    } catch (err) {
      const msg = (err as Error).message;
      const exitCode = /not found|no such file/i.test(msg) ? 127 : /permission denied/i.test(msg) ? 126 : 128;
      await this.runtime.delete(rec.id, true).catch(() => undefined);
      await unmountRootfs(this.paths.rootfs(rec.id)).catch(() => undefined);
      if (networkAttached) await this.detachNetwork(rec.id);
      this.failPendingAttaches(rec.id, err as Error);
      await this.setState(rec, { type: 'start-failed', error: msg, exitCode, at: new Date().toISOString() }).catch(() => undefined);
      this.waiters.notify(rec.id, 'exit', { StatusCode: exitCode, Error: { Message: msg } });
      if (rec.hostConfig.AutoRemove) {
        // Like dockerd: a --rm container that cannot start is removed (after the lock is released).
        setImmediate(() => void this.remove(rec.id, { force: true, volumes: true }).catch(() => undefined));
      }
      if (err instanceof EngineError && err.code !== 'internal') throw err;
      if (/not found|no such file|permission denied/i.test(msg)) throw new InvalidArgumentError(`failed to create task for container: ${msg}`, { cause: err });
      throw err;
    }
    this.event(rec, 'start');
    this.health.start(rec);
    this.watchExit(rec.id);
  }

  /** Cheaper than `runtime state`: the runtime keeps a state dir per container under its root. */
  private runtimeKnows(id: string): boolean {
    return existsSync(join(this.paths.runtimeRoot(), id));
  }

  private async detachNetwork(id: string): Promise<void> {
    const networking = this.engine.networking as Partial<Networking> | undefined;
    try {
      await networking?.detach?.(id);
    } catch (err) {
      log.warn(`container ${id.slice(0, 12)}: network detach: ${(err as Error).message}`);
    }
  }

  // ---- attach before start ----

  /** Registers an attach that connects to the monitor when the container starts (or now if it runs). */
  async attachStreams(ref: string, streams: PendingAttach['streams']): Promise<Socket | Promise<Socket>> {
    const rec = this.get(ref);
    if (isActive(rec.state)) {
      if (!this.runtime.hasMonitor) throw new EngineError(`attach needs berth-runtime's monitor; the runtime ${this.runtime.binary} has none`);
      return monitorAttach(this.paths.monitorSocket(rec.id), streams);
    }
    return new Promise<Socket>((resolve, reject) => {
      let set = this.pendingAttach.get(rec.id);
      if (!set) this.pendingAttach.set(rec.id, (set = new Set()));
      const entry: PendingAttach = { streams, connected: resolve, failed: reject };
      set.add(entry);
    });
  }

  cancelPendingAttach(id: string): void {
    this.pendingAttach.delete(id);
  }

  private async connectPendingAttaches(rec: ContainerRecord): Promise<void> {
    const set = this.pendingAttach.get(rec.id);
    if (!set?.size) return;
    this.pendingAttach.delete(rec.id);
    await Promise.all([...set].map(async (p) => {
      try {
        p.connected(await monitorAttach(this.paths.monitorSocket(rec.id), p.streams));
      } catch (err) {
        p.failed(err as Error);
      }
    }));
  }

  private failPendingAttaches(id: string, err: Error): void {
    const set = this.pendingAttach.get(id);
    this.pendingAttach.delete(id);
    for (const p of set ?? []) p.failed(err);
  }

  // ---- exit ----

  private watchExit(id: string): void {
    if (this.watching.has(id)) return;
    this.watching.add(id);
    void this.awaitExit(id).then(
      (status) => {
        this.watching.delete(id);
        if (status && !this.closing) return this.onExit(id, status);
      },
      (err) => {
        this.watching.delete(id);
        if (!this.closing) log.error(`container ${id.slice(0, 12)}: watching its exit: ${(err as Error).message}`);
      },
    );
  }

  /** The exit status from the monitor, or from the runtime's state when the monitor is gone. */
  private async awaitExit(id: string): Promise<ExitStatus | undefined> {
    if (this.runtime.hasMonitor) {
      try {
        return await waitExit(this.paths.monitorSocket(id));
      } catch {
        // Monitor gone or socket closed: the runtime's state knows how it ended.
      }
    }
    for (;;) {
      if (this.closing) return undefined;
      const st = await this.runtime.state(id).catch(() => null);
      if (!st) return { exitCode: 255, finishedAt: new Date().toISOString(), oomKilled: false };
      if (st.status === 'stopped') {
        return { exitCode: st.exitCode ?? 255, finishedAt: st.finishedAt ?? new Date().toISOString(), oomKilled: !!st.oomKilled };
      }
      if (this.runtime.hasMonitor) {
        try {
          return await waitExit(this.paths.monitorSocket(id));
        } catch {
          // Fall through to polling.
        }
      }
      await sleep(200);
    }
  }

  private async onExit(id: string, status: ExitStatus): Promise<void> {
    const rec = this.store.find(id);
    if (!rec) return;
    let restart = false;
    let autoRemove = false;
    await this.mutex.run(id, async () => {
      if (!isActive(rec.state)) return;
      this.health.stop(id);
      const startedAt = Date.parse(rec.state.startedAt);
      const exit: StateEvent = { type: 'exit', exitCode: status.exitCode, oomKilled: status.oomKilled, at: status.finishedAt || new Date().toISOString() };
      // A --rm container's record is deleted right away: persisting its exit first is wasted I/O
      // (after a crash in between, restore reads the exit from the runtime).
      const wantsRestart = shouldRestart(rec, status.exitCode);
      const removing = rec.hostConfig.AutoRemove && !wantsRestart;
      restart = wantsRestart && !this.closing;
      if (removing) rec.state = transition(rec.id, rec.state, exit);
      else if (restart) {
        // As dockerd: straight to "restarting" (no "exited" in between for clients to see),
        // and the count goes up when the restart is decided.
        rec.state = transition(rec.id, rec.state, exit);
        rec.restartCount++;
        await this.setState(rec, { type: 'restarting' });
      } else await this.setState(rec, exit);
      // remove() cleans up a --rm container itself, after it has answered the waiters.
      if (!removing) await this.cleanupAfterExit(rec);
      if (status.oomKilled) this.event(rec, 'oom');
      this.event(rec, 'die', { exitCode: String(status.exitCode) });
      if (restart) {
        this.scheduleRestart(rec, this.backoff.next(rec.id, Date.now() - startedAt));
      } else {
        autoRemove = !!rec.hostConfig.AutoRemove;
      }
      this.waiters.notify(id, 'exit', { StatusCode: status.exitCode, Error: null });
    });
    if (autoRemove) {
      await this.remove(id, { force: true, volumes: true }).catch((err) => log.error(`auto-remove ${id.slice(0, 12)}: ${(err as Error).message}`));
    }
  }

  /** Independent steps, run together: the container's processes are gone. */
  private async cleanupAfterExit(rec: ContainerRecord): Promise<void> {
    await Promise.all([
      this.runtime.delete(rec.id, true).catch((err) => log.warn(`runtime delete ${rec.id.slice(0, 12)}: ${(err as Error).message}`)),
      unmountRootfs(this.paths.rootfs(rec.id)).catch((err) => log.warn(`umount ${rec.id.slice(0, 12)}: ${(err as Error).message}`)),
      this.detachNetwork(rec.id),
    ]);
  }

  private scheduleRestart(rec: ContainerRecord, delayMs: number): void {
    this.cancelRestart(rec.id);
    const timer = setTimeout(() => {
      this.restartTimers.delete(rec.id);
      void this.mutex.run(rec.id, async () => {
        if (rec.state.status !== 'restarting' || this.closing) return;
        await this.startLocked(rec);
        this.event(rec, 'restart');
      }).catch((err) => {
        log.error(`restart ${rec.id.slice(0, 12)}: ${(err as Error).message}`);
        if (rec.state.status === 'exited' && shouldRestart(rec, rec.state.exitCode)) {
          rec.restartCount++;
          void this.setState(rec, { type: 'restarting' }).then(() => this.scheduleRestart(rec, this.backoff.next(rec.id, 0)), () => undefined);
        }
      });
    }, delayMs);
    timer.unref?.();
    this.restartTimers.set(rec.id, timer);
  }

  private cancelRestart(id: string): void {
    const t = this.restartTimers.get(id);
    if (t) clearTimeout(t);
    this.restartTimers.delete(id);
  }

  // ---- stop / kill / restart ----

  private async waitForExit(rec: ContainerRecord, ms: number): Promise<boolean> {
    if (!isActive(rec.state)) return true;
    const exited = this.waiters.add(rec.id, 'exit').then(() => true);
    return Promise.race([exited, sleep(ms).then(() => !isActive(rec.state))]);
  }

  async stop(ref: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> {
    const rec = this.get(ref);
    if (rec.state.status === 'restarting') {
      this.cancelRestart(rec.id);
      rec.manuallyStopped = true;
      await this.mutex.run(rec.id, async () => {
        if (rec.state.status === 'restarting') rec.state = { ...rec.state, status: 'exited' };
        await this.store.save(rec);
      });
      this.event(rec, 'stop');
      return;
    }
    if (!isActive(rec.state)) throw new NotModifiedError('container already stopped');
    rec.manuallyStopped = true;
    await this.store.save(rec);
    const signal = parseSignal(opts.signal || rec.config.StopSignal, 'SIGTERM');
    const timeout = opts.timeout ?? rec.config.StopTimeout ?? 10;
    if (timeout !== 0) {
      await this.signal(rec, signal);
      if (timeout < 0 ? await this.waitForExit(rec, 2 ** 31 - 1) : await this.waitForExit(rec, timeout * 1000)) {
        this.event(rec, 'stop');
        return;
      }
    }
    await this.signal(rec, 9);
    await this.waitForExit(rec, 2 ** 31 - 1);
    this.event(rec, 'stop');
  }

  private async signal(rec: ContainerRecord, sig: number): Promise<void> {
    if (!isActive(rec.state)) return;
    this.event(rec, 'kill', { signal: String(sig) });
    try {
      await this.runtime.kill(rec.id, sig);
      if (rec.state.status === 'paused' && (sig === 9 || sig === 15)) await this.runtime.resume(rec.id).catch(() => undefined);
    } catch (err) {
      if (isActive(rec.state)) throw err;
    }
  }

  async kill(ref: string, signal?: string): Promise<void> {
    const rec = this.get(ref);
    const sig = parseSignal(signal, 'SIGKILL');
    if (!isActive(rec.state)) throw new ConflictError(`Cannot kill container: ${ref}: Container ${rec.id} is not running`);
    if (sig === 9 || sig === parseSignal(rec.config.StopSignal, 'SIGTERM')) {
      rec.manuallyStopped = true;
      await this.store.save(rec);
    }
    await this.signal(rec, sig);
    if (sig === 9) await this.waitForExit(rec, 10_000);
  }

  async restart(ref: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> {
    const rec = this.get(ref);
    if (isActive(rec.state) || rec.state.status === 'restarting') await this.stop(rec.id, opts).catch((err) => { if (!(err instanceof NotModifiedError)) throw err; });
    await this.mutex.run(rec.id, async () => {
      if (isActive(rec.state)) return;
      rec.manuallyStopped = false;
      await this.startLocked(rec);
    });
    this.event(rec, 'restart');
  }

  // ---- wait ----

  async wait(ref: string, condition: WaitCondition): Promise<WaitResult> {
    const rec = this.get(ref);
    if (condition === 'removed') return this.waiters.add(rec.id, 'removed');
    if (condition === 'not-running' && !isActive(rec.state) && rec.state.status !== 'restarting') {
      return { StatusCode: 'exitCode' in rec.state ? rec.state.exitCode : 0, Error: null };
    }
    return this.waiters.add(rec.id, 'exit');
  }

  /** Resolves when the wait is registered; `result` settles later. For routes that must answer headers first. */
  waitRegistered(ref: string, condition: WaitCondition): { result: Promise<WaitResult> } {
    const rec = this.get(ref);
    return { result: this.wait(rec.id, condition) };
  }

  // ---- pause ----

  async pause(ref: string): Promise<void> {
    const rec = this.get(ref);
    await this.mutex.run(rec.id, async () => {
      if (rec.state.status === 'paused') throw new ConflictError(`Container ${rec.id} is already paused`);
      if (rec.state.status !== 'running') throw new ConflictError(`Container ${rec.id} is not running`);
      await this.runtime.pause(rec.id);
      await this.setState(rec, { type: 'pause' });
    });
    this.event(rec, 'pause');
  }

  async unpause(ref: string): Promise<void> {
    const rec = this.get(ref);
    await this.mutex.run(rec.id, async () => {
      if (rec.state.status !== 'paused') throw new ConflictError(`Container ${rec.id} is not paused`);
      await this.runtime.resume(rec.id);
      await this.setState(rec, { type: 'unpause' });
    });
    this.event(rec, 'unpause');
  }

  // ---- rename / update / resize ----

  async rename(ref: string, newName: string): Promise<void> {
    const rec = this.get(ref);
    if (!newName) throw new InvalidArgumentError('Neither old nor new names may be empty');
    const name = normalizeName(newName);
    if (name === rec.name) throw new InvalidArgumentError('Renaming a container with the same name as its current name');
    const old = rec.name;
    this.store.reserveName(name, rec.id);
    rec.name = name;
    try {
      await this.store.save(rec);
    } catch (err) {
      rec.name = old;
      this.store.releaseName(name, rec.id);
      throw err;
    }
    this.store.releaseName(old, rec.id);
    this.event(rec, 'rename', { oldName: `/${old}` });
  }

  async update(ref: string, body: HostConfig): Promise<{ Warnings: string[] }> {
    const rec = this.get(ref);
    const next: HostConfig = { ...rec.hostConfig };
    const keys = ['Memory', 'MemorySwap', 'MemoryReservation', 'NanoCpus', 'CpuShares', 'CpuQuota', 'CpuPeriod', 'CpusetCpus', 'CpusetMems'] as const;
    for (const k of keys) if (body[k] !== undefined && body[k] !== null && body[k] !== 0 && body[k] !== '') (next as Record<string, unknown>)[k] = body[k];
    // As dockerd: PidsLimit 0 or -1 lifts the limit (shown as 0), null leaves it alone.
    const pidsLifted = typeof body.PidsLimit === 'number' && body.PidsLimit <= 0;
    if (typeof body.PidsLimit === 'number') next.PidsLimit = pidsLifted ? 0 : body.PidsLimit;
    if (body.RestartPolicy?.Name) next.RestartPolicy = body.RestartPolicy;
    validateResources(next);
    validateRestartPolicy(next.RestartPolicy, !!next.AutoRemove);
    await this.mutex.run(rec.id, async () => {
      if (isActive(rec.state)) {
        const file = join(this.paths.bundle(rec.id), 'resources.json');
        const resources = toOciResources(next);
        if (pidsLifted) resources.pids = { limit: -1 };
        await writeFileAtomicAsync(file, JSON.stringify(resources), { durable: false }); // the bundle is exec-root
        await this.runtime.update(rec.id, file);
      }
      rec.hostConfig = next;
      await this.store.save(rec);
    });
    this.event(rec, 'update');
    return { Warnings: [] };
  }

  async resize(ref: string, height: number, width: number): Promise<void> {
    const rec = this.get(ref);
    if (!Number.isInteger(height) || !Number.isInteger(width) || height < 0 || width < 0 || height > 65535 || width > 65535) {
      throw new InvalidArgumentError(`invalid terminal size ${height}x${width}: h and w must be integers from 0 to 65535`);
    }
    if (!isActive(rec.state)) throw new ConflictError(`Container ${rec.id} is not running`);
    if (!rec.config.Tty) return;
    await monitorResize(this.paths.monitorSocket(rec.id), height, width);
    this.event(rec, 'resize', { height: String(height), width: String(width) });
  }

  // ---- remove ----

  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const rec = this.get(ref);
    if (rec.state.status === 'restarting' && !opts.force) {
      throw new ConflictError(`You cannot remove a restarting container ${rec.id}. Stop the container before attempting removal or force remove`);
    }
    if (isActive(rec.state) && !opts.force) {
      throw new ConflictError(`cannot remove container "/${rec.name}": container is ${rec.state.status}: stop the container before removing or force remove`);
    }
    if (opts.force && (isActive(rec.state) || rec.state.status === 'restarting')) {
      rec.manuallyStopped = true;
      this.cancelRestart(rec.id);
      // A restart already under way finishes first; then nothing brings the container back.
      await this.mutex.run(rec.id, async () => undefined);
      if (isActive(rec.state)) {
        await this.signal(rec, 9);
        await this.waitForExit(rec, 10_000);
      }
    }
    this.cancelRestart(rec.id);
    await this.mutex.run(rec.id, async () => {
      if (!this.store.find(rec.id)) return;
      if (isActive(rec.state)) throw new ConflictError(`container ${rec.id.slice(0, 12)} is still running after SIGKILL`);
      rec.state = transition(rec.id, rec.state, { type: 'remove' });
      // The record goes first: a crash after it leaves only leftovers that no record
      // claims (removed on the next start). Clients learn of the removal right then.
      await traced('remove: record', rec.id, () => this.store.delete(rec.id));
      this.event(rec, 'destroy');
      const volumes = this.engine.volumes as Partial<VolumeUser> | undefined;
      const endRelease = volumes?.releaseStarting?.(rec.id);
      const code = 'exitCode' in rec.state ? rec.state.exitCode : 0;
      this.waiters.notify(rec.id, 'exit', { StatusCode: code, Error: null });
      this.waiters.notify(rec.id, 'removed', { StatusCode: code, Error: null });
      try {
        await traced('remove: runtime, rootfs, network', rec.id, () => Promise.all([
          this.runtimeKnows(rec.id) ? this.runtime.delete(rec.id, true).catch((err) => log.warn(`runtime delete ${rec.id.slice(0, 12)}: ${(err as Error).message}`)) : undefined,
          unmountRootfs(this.paths.rootfs(rec.id)).catch(() => undefined),
          this.detachNetwork(rec.id),
        ]));
        await traced('remove: volumes, snapshot, bundle, files', rec.id, () => Promise.all([
          volumes?.release?.(rec.id, { removeAnonymous: !!opts.volumes }).catch((err: Error) => log.warn(`volumes release ${rec.id.slice(0, 12)}: ${err.message}`)),
          this.engine.snapshots.remove(rec.snapshotKey).catch((err) => log.warn(`snapshot remove ${rec.id.slice(0, 12)}: ${(err as Error).message}`)),
          removeTree(this.paths.bundle(rec.id)).catch((err) => log.warn(`bundle remove ${rec.id.slice(0, 12)}: ${(err as Error).message}`)),
          this.store.removeDir(rec.id).catch((err) => log.warn(`container directory ${rec.id.slice(0, 12)}: ${(err as Error).message}`)),
        ]));
      } finally {
        endRelease?.();
      }
      this.backoff.forget(rec.id);
    });
  }

  // ---- engine start / stop ----

  /** Loads records and re-adopts containers that kept running under their monitors. */
  async init(): Promise<void> {
    const { loaded: records, discarded } = this.store.load();
    const loaded: ContainerRecord[] = [];
    const snapshots = await this.engine.snapshots.list().then((keys) => new Set(keys)).catch(() => undefined);
    for (const rec of records) {
      // create writes the record and the snapshot together: a record of a never started
      // container without its snapshot is a create cut short (see create).
      if (snapshots && rec.state.status === 'created' && rec.driver === this.engine.snapshots.driver && !snapshots.has(rec.snapshotKey)) {
        await this.store.delete(rec.id);
        discarded.push(rec.id);
      } else {
        loaded.push(rec);
      }
    }
    for (const id of discarded) {
      log.warn(`container ${id.slice(0, 12)}: no complete record (create interrupted): removing its leftovers`);
      await this.runtime.delete(id, true).catch((err) => log.warn(`runtime delete ${id.slice(0, 12)}: ${(err as Error).message}`));
      await unmountRootfs(this.paths.rootfs(id)).catch(() => undefined);
      await this.detachNetwork(id);
      await this.engine.snapshots.remove(id).catch(() => undefined);
      await rm(this.paths.dir(id), { recursive: true, force: true });
      await rm(this.paths.bundle(id), { recursive: true, force: true });
    }
    const known = new Set(loaded.map((r) => r.id));
    await this.removeOrphans(known);
    for (const m of strayMonitors(this.paths.runtimeRoot(), known)) {
      if (this.runtimeKnows(m.id)) continue; // a runtime delete above is ending it
      log.warn(`container ${m.id.slice(0, 12)}: a monitor (pid ${m.pid}) without state or record: ending it`);
      endStray(m);
      await unmountRootfs(this.paths.rootfs(m.id)).catch(() => undefined);
      await this.detachNetwork(m.id);
    }
    for (const rec of loaded) {
      try {
        await this.restore(rec);
      } catch (err) {
        log.error(`container ${rec.id.slice(0, 12)}: restore: ${(err as Error).message}`);
      }
    }
  }

  /** Bundles, writable snapshots and runtime state of containers whose record is gone (a crash during rm). */
  private async removeOrphans(known: Set<string>): Promise<void> {
    const isContainerId = (k: string) => /^[0-9a-f]{64}$/.test(k) && !known.has(k);
    let bundles: string[] = [];
    try {
      bundles = readdirSync(join(this.engine.config.execRoot, 'bundles'));
    } catch {
      bundles = [];
    }
    const snapshots = await this.engine.snapshots.list().catch(() => [] as string[]);
    // The runtime's own state too: a kill between a remove's record and its runtime
    // delete can leave a monitor whose bundle and snapshot are already gone.
    let runtimeStates: string[] = [];
    try {
      runtimeStates = readdirSync(this.paths.runtimeRoot());
    } catch {
      runtimeStates = [];
    }
    for (const id of new Set([...bundles, ...snapshots, ...runtimeStates].filter(isContainerId))) {
      log.warn(`container ${id.slice(0, 12)}: leftovers without a record: removing them`);
      if (this.runtimeKnows(id)) await this.runtime.delete(id, true).catch((err) => log.warn(`runtime delete ${id.slice(0, 12)}: ${(err as Error).message}`));
      await unmountRootfs(this.paths.rootfs(id)).catch(() => undefined);
      await this.detachNetwork(id);
      await rm(this.paths.bundle(id), { recursive: true, force: true });
      if (snapshots.includes(id)) await this.engine.snapshots.remove(id).catch(() => undefined);
    }
  }

  private async restore(rec: ContainerRecord): Promise<void> {
    const st = await this.runtime.state(rec.id).catch(() => null);
    const alive = st && (st.status === 'running' || st.status === 'paused');
    if (rec.state.status === 'removing') {
      rec.state = { ...rec.state, status: 'dead' } as ContainerRecord['state'];
      await this.remove(rec.id, { force: true });
      return;
    }
    if (alive) {
      if (!isActive(rec.state)) {
        // Crashed between runtime start and saving the state: the container runs.
        rec.state = { status: 'running', pid: st.pid, startedAt: st.startedAt ?? new Date().toISOString(), finishedAt: rec.state.finishedAt };
      }
      if (st.status === 'paused' && rec.state.status === 'running') {
        // Only a commit pauses on its own: it was cut short, so thaw the container.
        await this.runtime.resume(rec.id);
      } else if (st.status === 'running' && rec.state.status === 'paused') {
        rec.state = { ...rec.state, status: 'running' } as ContainerRecord['state'];
      }
      await this.networkRestore(rec);
      await this.store.save(rec);
      this.health.start(rec);
      this.watchExit(rec.id);
      return;
    }
    if (isActive(rec.state) || st) {
      // It ended while no engine watched (or never started): record how, then clean up.
      const exitCode = st?.exitCode ?? 255;
      const at = st?.finishedAt ?? new Date().toISOString();
      if (isActive(rec.state)) {
        rec.state = { status: 'exited', exitCode, oomKilled: !!st?.oomKilled, startedAt: rec.state.startedAt, finishedAt: at };
        this.event(rec, 'die', { exitCode: String(exitCode) });
      }
      await this.cleanupAfterExit(rec);
      await this.store.save(rec);
      if (rec.hostConfig.AutoRemove) {
        await this.remove(rec.id, { force: true, volumes: true });
        return;
      }
    } else {
      await unmountRootfs(this.paths.rootfs(rec.id)).catch(() => undefined);
    }
    if (rec.state.status === 'restarting') rec.state = { ...rec.state, status: 'exited' } as ContainerRecord['state'];
    const exitCode = 'exitCode' in rec.state ? rec.state.exitCode : 0;
    if (startsWithEngine(rec) || (rec.hostConfig.RestartPolicy?.Name === 'on-failure' && rec.state.status === 'exited' && shouldRestart(rec, exitCode) && !rec.manuallyStopped && rec.state.startedAt !== '0001-01-01T00:00:00Z')) {
      if (rec.state.status === 'created') return;
      await this.mutex.run(rec.id, () => this.startLocked(rec)).catch((err) => log.error(`restart ${rec.id.slice(0, 12)} on engine start: ${(err as Error).message}`));
    }
  }

  private async networkRestore(rec: ContainerRecord): Promise<void> {
    const networking = this.engine.networking as Partial<Networking> | undefined;
    await networking?.restore?.(rec.id).catch((err: Error) => log.warn(`network restore ${rec.id.slice(0, 12)}: ${err.message}`));
  }

  /** Live restore: containers keep running under their monitors; only our watchers stop. */
  async shutdown(): Promise<void> {
    this.closing = true;
    for (const id of [...this.restartTimers.keys()]) this.cancelRestart(id);
    for (const rec of this.store.all()) this.health.stop(rec.id);
  }

  /** For exec and files: the host path of the container's root as its processes see it. */
  rootOf(rec: ContainerRecord): string {
    return isActive(rec.state) && existsSync(`/proc/${rec.state.pid}/root`) ? `/proc/${rec.state.pid}/root` : this.paths.rootfs(rec.id);
  }
}

/** berthd's --dns, --default-ulimit, --log-driver and --log-opt, for what a container leaves unset. */
function withDaemonDefaults(hc: HostConfig, c: DaemonConfig): HostConfig {
  if (!hc.Dns?.length && c.dns?.length) hc.Dns = [...c.dns];
  if (c.defaultUlimits?.length) {
    const own = new Set((hc.Ulimits ?? []).map((u) => u.Name));
    const added = c.defaultUlimits.filter((u) => !own.has(u.Name));
    if (added.length) hc.Ulimits = [...(hc.Ulimits ?? []), ...added];
  }
  if (!hc.LogConfig?.Type && c.logDriver) hc.LogConfig = { Type: c.logDriver, Config: { ...(c.logDriver === 'json-file' ? c.logOpts : {}), ...(hc.LogConfig?.Config ?? {}) } };
  return hc;
}

/** dockerd's checks of --pid, --ipc and --uts. */
function validateNamespaceModes(hc: HostConfig): void {
  const pid = hc.PidMode ?? '';
  if (pid && pid !== 'host' && !/^container:.+/.test(pid)) throw new InvalidArgumentError(`invalid PID mode: ${pid}`);
  const ipc = hc.IpcMode ?? '';
  if (ipc && !['private', 'shareable', 'host', 'none'].includes(ipc) && !/^container:.+/.test(ipc)) throw new InvalidArgumentError(`invalid IPC mode: ${ipc}`);
  const uts = hc.UTSMode ?? '';
  if (uts && uts !== 'host') throw new InvalidArgumentError(`invalid UTS mode: ${uts}`);
}

/** dockerd's verifyContainerSettings on Config: environment entries and healthcheck durations. */
function validateConfig(req: CreateRequest): void {
  for (const e of (req.Env as string[] | null | undefined) ?? []) {
    if (typeof e !== 'string' || e.split('=')[0] === '') throw new InvalidArgumentError(`invalid environment variable: ${e}`);
  }
  const hc = req.Healthcheck as Record<string, number | undefined> | null | undefined;
  if (!hc) return;
  const MIN = 1_000_000; // 1ms in ns
  for (const f of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval']) {
    const v = hc[f];
    if (v !== undefined && v !== null && v !== 0 && v < MIN) throw new InvalidArgumentError(`${f} in Healthcheck cannot be less than 1ms`);
  }
  if ((hc.Retries ?? 0) < 0) throw new InvalidArgumentError('Retries in Healthcheck cannot be negative');
}
