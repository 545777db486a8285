/** The plugins service (engine.plugins): install from a tar, enable/disable, set, remove, lookup. */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { runtimePath } from '../../src/common/paths.js';
import { ConflictError, InvalidArgumentError } from '../errors.js';
import type { Engine, Service } from '../engine.js';
import { log } from '../log.js';
import { RuntimeClient } from '../runtime/client.js';
import { BERTH_VERSION } from '../version.js';
import { applySettings, capabilities, initialSettings, privileges } from './config.js';
import { unpackPluginTar } from './create.js';
import { fetchRemote, fetchRootfs, parseRemote, pushPlugin, remoteName, remoteString, type OpenRepo } from './distribution.js';
import type { RegistryAuth } from '../images/index.js';
import type { RegistryClient } from '../images/registry/client.js';
import type { PluginConfig, PluginObject, PluginPrivilege, VolumeDriver, VolumePlugins } from './index.js';
import { waitExit } from '../runtime/monitor.js';
import { startPlugin, stopPlugin, unshareMount, type RunnerPaths } from './runner.js';
import { normalizeName, PluginStore } from './store.js';
import { PluginVolumeDriver } from './volumedriver.js';

const DEFAULT_ENABLE_TIMEOUT_S = 30;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class PluginService implements Service, VolumePlugins {
  /** Volumes using each plugin (by full name); set by daemon.ts from the volumes service. */
  usedBy: (fullName: string) => number = () => 0;
  /** Startups in progress (enable, or the restart of enabled plugins at boot), by id. */
  private readonly starting = new Map<string, Promise<unknown>>();
  private chain: Promise<unknown> = Promise.resolve();
  /** The current run of each started plugin: an exit of that run (not a stop of ours) starts it again. */
  private readonly runs = new Map<string, symbol>();
  private closing = false;

  private constructor(private readonly engine: Engine, private readonly store: PluginStore, private readonly runtime: RuntimeClient, private readonly execDir: string) {}

  static async open(engine: Engine): Promise<PluginService> {
    const store = await PluginStore.open(engine.config.dataRoot);
    const execDir = join(engine.config.execRoot, 'plugins');
    await fs.mkdir(join(execDir, 'runtime'), { recursive: true, mode: 0o700 });
    await fs.mkdir(join(execDir, 'm'), { recursive: true, mode: 0o700 });
    const runtime = new RuntimeClient(engine.config.runtime ?? runtimePath(), join(execDir, 'runtime'));
    const svc = new PluginService(engine, store, runtime, execDir);
    // Plugins enabled before berthd stopped run again (dockerd restores them the same way).
    for (const p of store.all()) {
      if (p.Enabled) svc.track(p.Id, svc.start(p, DEFAULT_ENABLE_TIMEOUT_S * 1000).catch((err) => log.error(`plugin ${p.Name}: ${(err as Error).message}`)));
      // a disabled plugin may still run after a crash mid-disable
      else svc.track(p.Id, stopPlugin(runtime, p.Id, 3000).catch((err) => log.error(`plugin ${p.Name}: stopping a leftover run: ${(err as Error).message}`)));
    }
    return svc;
  }

  private track(id: string, work: Promise<unknown>): void {
    this.starting.set(id, work);
    const done = () => { if (this.starting.get(id) === work) this.starting.delete(id); };
    work.then(done, done);
  }

  /** One change at a time (plugins change rarely; volumes calls do not wait for this). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private paths(p: PluginObject): RunnerPaths {
    const short = p.Id.slice(0, 12);
    return {
      rootfs: this.store.rootfs(p.Id),
      propagatedMount: this.store.propagatedMount(p.Id),
      log: join(this.store.pluginDir(p.Id), 'plugin.log'),
      runDir: join(this.execDir, short),
      bundle: join(this.execDir, 'bundles', p.Id),
      monitorSocket: join(this.execDir, 'm', `${short}.sock`),
    };
  }

  /** Where the plugin's socket is on the host (docker: /run/docker/plugins/<id>/<socket>). */
  socketPath(p: PluginObject): string {
    return join(this.paths(p).runDir, p.Config.Interface.Socket);
  }

  private event(p: PluginObject, action: string): void {
    this.engine.events.emit({ Type: 'plugin', Action: action, Actor: { ID: p.Id, Attributes: { name: p.Name } } });
  }

  fullName(name: string): string {
    return normalizeName(name);
  }

  list(filters: Record<string, string[]> = {}): PluginObject[] {
    const enabled = filters.enabled ?? filters.enable;
    for (const v of enabled ?? []) if (v !== 'true' && v !== 'false') throw new InvalidArgumentError(`invalid filter 'enabled=${v}': use true or false`);
    return this.store.all().filter((p) => {
      if (enabled?.length && !enabled.includes(String(p.Enabled))) return false;
      if (filters.capability?.length && !capabilities(p.Config).some((c) => filters.capability.includes(c))) return false;
      return true;
    });
  }

  inspect(nameOrId: string): PluginObject {
    return this.store.get(nameOrId);
  }

  /** POST /plugins/create?name=NAME with the tar of config.json and rootfs/. */
  async create(name: string, body: Readable): Promise<PluginObject> {
    if (!name) throw new InvalidArgumentError('plugin create: the name query parameter is required (NAME[:TAG])');
    const full = normalizeName(name);
    if (this.store.hasName(full)) throw new ConflictError(`plugin ${full} already exists`);
    const id = randomBytes(32).toString('hex');
    const staged = join(this.store.tmpDir(), id);
    await fs.mkdir(staged, { recursive: true, mode: 0o700 });
    try {
      const { config, diffId } = await unpackPluginTar(body, join(staged, 'rootfs'));
      config.DockerVersion = BERTH_VERSION;
      config.rootfs = { type: 'layers', diff_ids: [diffId] };
      const p: PluginObject = { Id: id, Name: full, Enabled: false, Settings: initialSettings(config), PluginReference: full, Config: config };
      await this.serial(() => this.store.add(staged, p));
      this.event(p, 'create');
      return p;
    } catch (err) {
      await fs.rm(staged, { recursive: true, force: true }).catch(() => undefined);
      throw err;
    }
  }

  async enable(nameOrId: string, timeoutS = DEFAULT_ENABLE_TIMEOUT_S): Promise<void> {
    await this.serial(async () => {
      const p = this.store.get(nameOrId);
      if (p.Enabled) throw new ConflictError(`plugin ${p.Name} is already enabled`);
      const work = this.start(p, (timeoutS > 0 ? timeoutS : DEFAULT_ENABLE_TIMEOUT_S) * 1000);
      this.track(p.Id, work);
      await work;
      await this.store.save({ ...p, Enabled: true });
      this.event(p, 'enable');
    });
  }

  private async start(p: PluginObject, timeoutMs: number): Promise<void> {
    this.runs.delete(p.Id);
    const implemented = await startPlugin(this.runtime, p, this.paths(p), timeoutMs);
    log.info(`plugin ${p.Name} started (implements ${implemented.join(', ') || 'nothing it announced'})`);
    if (this.runtime.hasMonitor) this.watch(p);
  }

  /** dockerd restarts a plugin that exits while enabled; so does berthd (once a second at most). */
  private watch(p: PluginObject): void {
    const run = Symbol(p.Id);
    this.runs.set(p.Id, run);
    void waitExit(this.paths(p).monitorSocket).catch(() => undefined).then(async () => {
      if (this.runs.get(p.Id) !== run || this.closing) return;
      const st = await this.runtime.state(p.Id).catch(() => null);
      if (st?.status === 'running') return log.warn(`plugin ${p.Name}: its monitor does not answer: it will not be restarted if it exits`);
      this.runs.delete(p.Id);
      log.warn(`plugin ${p.Name} exited while enabled: starting it again`);
      await sleep(1000);
      if (this.closing || this.runs.has(p.Id) || !this.store.all().some((x) => x.Id === p.Id && x.Enabled)) return;
      const again = this.store.get(p.Id);
      const work = this.start(again, DEFAULT_ENABLE_TIMEOUT_S * 1000).catch((err) => log.error(`plugin ${p.Name}: ${(err as Error).message}`));
      this.track(p.Id, work);
    });
  }

  private async stop(id: string, graceMs?: number): Promise<void> {
    this.runs.delete(id);
    await stopPlugin(this.runtime, id, graceMs);
  }

  async disable(nameOrId: string, force = false): Promise<void> {
    await this.serial(async () => {
      const p = this.store.get(nameOrId);
      if (!p.Enabled) throw new ConflictError(`plugin ${p.Name} is already disabled`);
      if (!force && this.usedBy(p.Name) > 0) throw new ConflictError(`plugin ${p.Name} is in use`);
      await this.starting.get(p.Id)?.catch(() => undefined);
      await this.stop(p.Id);
      await this.store.save({ ...p, Enabled: false });
      this.event(p, 'disable');
    });
  }

  async remove(nameOrId: string, force = false): Promise<PluginObject> {
    return this.serial(async () => {
      const p = this.store.get(nameOrId);
      if (!force) {
        if (this.usedBy(p.Name) > 0) throw new ConflictError(`plugin ${p.Name} is in use`);
        if (p.Enabled) throw new ConflictError(`plugin ${p.Name} is enabled`);
      }
      await this.starting.get(p.Id)?.catch(() => undefined);
      await this.stop(p.Id);
      const paths = this.paths(p);
      await unshareMount(paths.propagatedMount);
      await this.store.remove(p);
      await Promise.all([paths.runDir, paths.bundle].map((d) => fs.rm(d, { recursive: true, force: true })));
      this.event(p, 'remove');
      return p;
    });
  }

  async set(nameOrId: string, args: unknown): Promise<void> {
    if (!Array.isArray(args)) throw new InvalidArgumentError('plugin set: the body must be a JSON list of "KEY=VALUE" strings');
    await this.serial(async () => {
      const p = this.store.get(nameOrId);
      await this.store.save({ ...p, Settings: applySettings(p, args as string[]) });
    });
  }

  private openRepo: OpenRepo = (ref, auth) => {
    const images = this.engine.images as unknown as { registry: RegistryClient; authFor(domain: string, auth?: RegistryAuth): RegistryAuth | undefined };
    return images.registry.repo(ref.domain, ref.path, images.authFor(ref.domain, auth), 'pull');
  };

  /**
   * GET /plugins/privileges?remote=REF: what the plugin asks for. An installed plugin of
   * that name answers from its config (berthd's addition: offline); else the registry's.
   */
  async privileges(remote: string, auth?: RegistryAuth): Promise<PluginPrivilege[]> {
    if (!remote) throw new InvalidArgumentError('plugin privileges: the remote query parameter is required (NAME[:TAG])');
    const ref = parseRemote(remote);
    const local = ref.digest ? undefined : this.store.all().find((x) => x.Name === remoteName(ref));
    if (local) return privileges(local.Config);
    return privileges((await fetchRemote(this.openRepo, remote, auth)).config);
  }

  /**
   * POST /plugins/pull?remote=REF&name=NAME (`docker plugin install`): the privileges the
   * client granted must be the plugin's; the rootfs is unpacked under tmp/ and the plugin
   * installed disabled, as create does.
   */
  /**
   * POST /plugins/{name}/upgrade?remote=REF (`docker plugin upgrade`): a disabled plugin
   * takes the config and rootfs of REF; its id, name, settings and volumes stay.
   */
  async upgrade(nameOrId: string, remote: string, granted: unknown, auth: RegistryAuth | undefined, onProgress: (status: string) => void): Promise<void> {
    const p = this.store.get(nameOrId);
    if (p.Enabled) throw new ConflictError(`plugin must be disabled before upgrading: plugin ${p.Name} is enabled`);
    if (!remote) throw new InvalidArgumentError('plugin upgrade: the remote query parameter is required (NAME[:TAG])');
    const r = await fetchRemote(this.openRepo, remote, auth);
    this.checkGrant(r.config, granted, remoteName(r.ref));
    onProgress(`Pulling from ${remoteName({ ...r.ref, tag: undefined, digest: undefined })}`);
    const staged = this.store.newRootfs(p.Id);
    await fs.rm(staged, { recursive: true, force: true });
    let committing = false;
    try {
      const diffId = await fetchRootfs(r, staged, onProgress);
      await this.serial(async () => {
        const cur = this.store.get(p.Id);
        if (cur.Enabled) throw new ConflictError(`plugin must be disabled before upgrading: plugin ${cur.Name} is enabled`);
        const config = { ...r.config, rootfs: { type: 'layers', diff_ids: [diffId] } };
        committing = true;
        await this.store.upgrade({ ...cur, Config: config, PluginReference: remoteString(r.ref) });
      });
      onProgress(`Digest: ${r.manifestDigest}`);
      onProgress(`Status: Downloaded newer image for ${remoteName(r.ref)}`);
      this.engine.events.emit({ Type: 'plugin', Action: 'pull', Actor: { ID: p.Id, Attributes: { name: remoteName(r.ref) } } });
    } catch (err) {
      // past the commit point the next start finishes the upgrade (PluginStore.finishUpgrade)
      if (!committing) await fs.rm(staged, { recursive: true, force: true }).catch(() => undefined);
      throw err;
    }
  }

  private checkGrant(config: PluginConfig, granted: unknown, name: string): void {
    const wanted = privileges(config);
    const key = (l: PluginPrivilege[]) => JSON.stringify(l.map((x) => JSON.stringify([x.Name, [...x.Value].sort()])).sort());
    if (!Array.isArray(granted) || key(granted as PluginPrivilege[]) !== key(wanted)) {
      throw new InvalidArgumentError(`incorrect privileges: ${name} needs ${wanted.map((x) => `${x.Name}=${x.Value.join(',')}`).join('; ') || 'none'} (docker plugin install --grant-all-permissions grants them)`);
    }
  }

  /** POST /plugins/{name}/push: to the registry its name names (NAME must be REGISTRY/REPO[:TAG] for a private one). */
  async push(nameOrId: string, auth: RegistryAuth | undefined, onProgress: (m: Record<string, unknown>) => void): Promise<void> {
    const p = this.store.get(nameOrId);
    const images = this.engine.images as unknown as { registry: RegistryClient; authFor(domain: string, auth?: RegistryAuth): RegistryAuth | undefined };
    await pushPlugin((ref) => images.registry.repo(ref.domain, ref.path, images.authFor(ref.domain, auth), 'pull,push'), p, this.store.rootfs(p.Id), this.store.tmpDir(), onProgress);
    this.engine.events.emit({ Type: 'plugin', Action: 'push', Actor: { ID: p.Id, Attributes: { name: p.Name } } });
  }

  /** The local name of a pull: NAME, else the reference's familiar name (with its tag). */
  pullName(remote: string, name: string): string {
    if (!remote) throw new InvalidArgumentError('plugin pull: the remote query parameter is required (NAME[:TAG])');
    return normalizeName(name || remoteName(parseRemote(remote)));
  }

  async pull(remote: string, name: string, granted: unknown, auth: RegistryAuth | undefined, onProgress: (status: string) => void): Promise<PluginObject> {
    const full = this.pullName(remote, name);
    if (this.store.hasName(full)) throw new ConflictError(`plugin ${full} already exists`);
    const r = await fetchRemote(this.openRepo, remote, auth);
    this.checkGrant(r.config, granted, remoteName(r.ref));
    onProgress(`Pulling from ${remoteName({ ...r.ref, tag: undefined, digest: undefined })}`);
    const id = randomBytes(32).toString('hex');
    const staged = join(this.store.tmpDir(), id);
    await fs.mkdir(staged, { recursive: true, mode: 0o700 });
    try {
      const diffId = await fetchRootfs(r, join(staged, 'rootfs'), onProgress);
      const config = { ...r.config, rootfs: { type: 'layers', diff_ids: [diffId] } };
      const p: PluginObject = { Id: id, Name: full, Enabled: false, Settings: initialSettings(config), PluginReference: remoteString(r.ref), Config: config };
      await this.serial(() => this.store.add(staged, p));
      onProgress(`Digest: ${r.manifestDigest}`);
      onProgress(`Status: Downloaded newer image for ${remoteName(r.ref)}`);
      this.engine.events.emit({ Type: 'plugin', Action: 'pull', Actor: { ID: id, Attributes: { name: remoteName(r.ref) } } });
      this.event(p, 'create');
      return p;
    } catch (err) {
      await fs.rm(staged, { recursive: true, force: true }).catch(() => undefined);
      throw err;
    }
  }

  volumeDriver(name: string): VolumeDriver {
    const p = this.store.get(name);
    if (!capabilities(p.Config).includes('volumedriver')) throw new InvalidArgumentError(`plugin ${p.Name} is not a volume driver (it implements ${p.Config.Interface.Types.join(', ')})`);
    if (!p.Enabled) throw new ConflictError(`plugin ${p.Name} found but disabled: enable it with \`docker plugin enable ${p.Name}\``);
    const paths = this.paths(p);
    const driver = new PluginVolumeDriver(p.Name, { socket: this.socketPath(p), rootfs: paths.rootfs, propagatedMount: paths.propagatedMount, propagatedIn: p.Config.PropagatedMount });
    const ready = this.starting.get(p.Id) ?? Promise.resolve();
    // Calls made while the plugin still starts (at boot) wait for it.
    return new Proxy(driver, {
      get: (target, prop, recv) => {
        const v = Reflect.get(target, prop, recv) as unknown;
        if (typeof v !== 'function') return v;
        return async (...args: unknown[]) => {
          await ready.catch(() => undefined);
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  }

  /** Plugins stop with berthd (they start again with it); their Enabled state is kept. */
  async shutdown(): Promise<void> {
    this.closing = true;
    await Promise.allSettled([...this.starting.values()]);
    for (const p of this.store.all()) {
      await this.stop(p.Id, 3000).catch((err) => log.error(`plugin ${p.Name}: stopping: ${(err as Error).message}`));
      await unshareMount(this.paths(p).propagatedMount).catch(() => undefined);
    }
  }
}
