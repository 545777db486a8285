import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../errors.js';
import type { EventBus } from '../events.js';
import { writeJsonAtomic } from '../fsutil.js';
import { log } from '../log.js';
import type { VolumeDriver, VolumePlugins } from '../plugins/index.js';
import { isMounted, mountVolume, needsMount, unmountVolume, validateDriverOptions } from './driver.js';
import { ANONYMOUS_LABEL, type MountSpec, type VolumeInfo, type VolumeMeta, type VolumeUser } from './index.js';
import { anonymousName, validateVolumeName } from './names.js';

export interface CreateVolumeRequest {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

/** Named and anonymous volumes of the local driver (engine.volumes). */
export class VolumeService implements VolumeUser {
  private readonly metas = new Map<string, VolumeMeta>();
  /** One change at a time per volume name (create/acquire/release/remove). */
  private readonly locks = new Map<string, Promise<unknown>>();
  /** Removed containers whose references are still being released (remove waits for them). */
  private readonly releasing = new Map<string, { done: Promise<void>; end: () => void }>();

  private constructor(private readonly dir: string, private readonly events: EventBus, private readonly plugins?: VolumePlugins) {}

  static async open(dataRoot: string, events: EventBus, plugins?: VolumePlugins): Promise<VolumeService> {
    const svc = new VolumeService(join(dataRoot, 'volumes'), events, plugins);
    await fs.mkdir(svc.dir, { recursive: true });
    for (const name of await fs.readdir(svc.dir)) {
      try {
        const meta = JSON.parse(await fs.readFile(join(svc.dir, name, 'volume.json'), 'utf8')) as VolumeMeta;
        svc.metas.set(meta.name, meta);
      } catch {
        // a directory without metadata is a create that crashed before it finished
        await fs.rm(join(svc.dir, name), { recursive: true, force: true }).catch(() => undefined);
      }
    }
    return svc;
  }

  mountpoint(name: string): string {
    const meta = this.metas.get(name);
    if (meta?.driver) return meta.mountpoint ?? '';
    return join(this.dir, name, '_data');
  }

  driverOf(name: string): string {
    return this.metas.get(name)?.driver ?? 'local';
  }

  /** Volumes of a plugin (the plugins service refuses to disable or remove it while any). */
  countByDriver(driver: string): number {
    return [...this.metas.values()].filter((m) => m.driver === driver).length;
  }

  /** The driver named by a create or a --mount's DriverConfig: undefined for local. */
  private pluginDriver(name: string | undefined): VolumeDriver | undefined {
    if (!name || name === 'local') return undefined;
    if (!this.plugins) throw new InvalidArgumentError(`volume driver "${name}" is not supported: berthd has the local driver`);
    try {
      return this.plugins.volumeDriver(name);
    } catch (err) {
      if (err instanceof NotFoundError) throw new NotFoundError(`error looking up volume plugin ${name}: ${err.message}`);
      throw err;
    }
  }

  private serial<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(name) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.locks.set(name, tail);
    void tail.then(() => { if (this.locks.get(name) === tail) this.locks.delete(name); });
    return next;
  }

  info(meta: VolumeMeta): VolumeInfo {
    return {
      CreatedAt: meta.createdAt,
      Driver: meta.driver ?? 'local',
      Labels: meta.labels,
      Mountpoint: this.mountpoint(meta.name),
      Name: meta.name,
      Options: Object.keys(meta.options).length ? meta.options : null,
      Scope: 'local',
      ...(meta.status ? { Status: meta.status } : {}),
    };
  }

  /** Creating an existing name returns it unchanged, as docker does. */
  async create(req: CreateVolumeRequest): Promise<VolumeInfo> {
    const driver = this.pluginDriver(req.Driver);
    const name = req.Name || anonymousName();
    validateVolumeName(name);
    const options = req.DriverOpts ?? {};
    if (!driver) validateDriverOptions(options);
    const labels = { ...(req.Labels ?? {}), ...(req.Name ? {} : { [ANONYMOUS_LABEL]: '' }) };
    return this.serial(name, async () => this.info(await this.ensure(name, labels, options, !req.Name, driver)));
  }

  private async ensure(name: string, labels: Record<string, string>, options: Record<string, string>, anonymous: boolean, driver?: VolumeDriver): Promise<VolumeMeta> {
    const existing = this.metas.get(name);
    if (existing) {
      const had = existing.driver ?? 'local';
      if (driver && had !== driver.name) throw new ConflictError(`create ${name}: volume name must be unique: ${name} exists with driver ${had}`);
      return existing;
    }
    const meta: VolumeMeta = { name, createdAt: new Date().toISOString(), labels, options, anonymous, refs: [] };
    if (driver) {
      await driver.create(name, options);
      const v = await driver.get(name);
      Object.assign(meta, { driver: driver.name, mountpoint: v.Mountpoint, ...(v.Status && Object.keys(v.Status).length ? { status: v.Status } : {}) });
      await fs.mkdir(join(this.dir, name), { recursive: true, mode: 0o700 });
    } else {
      await fs.mkdir(this.mountpoint(name), { recursive: true, mode: 0o755 });
    }
    await writeJsonAtomic(join(this.dir, name, 'volume.json'), meta);
    this.metas.set(name, meta);
    this.events.emit({ Type: 'volume', Action: 'create', Actor: { ID: name, Attributes: { driver: meta.driver ?? 'local' } } });
    return meta;
  }

  get(name: string): VolumeMeta {
    const meta = this.metas.get(name);
    if (!meta) throw new NotFoundError(`get ${name}: no such volume`);
    return meta;
  }

  inspect(name: string): VolumeInfo {
    return this.info(this.get(name));
  }

  list(filters: Record<string, string[]> = {}): VolumeInfo[] {
    return [...this.metas.values()].filter((m) => matches(m, filters)).map((m) => this.info(m));
  }

  async remove(name: string, force = false): Promise<void> {
    // dockerd drops a container's references before its removal is answered: a
    // `volume rm` right after `run --rm` or `rm` must not see them.
    const pending = (this.metas.get(name)?.refs ?? []).flatMap((r) => this.releasing.get(r)?.done ?? []);
    if (pending.length) await Promise.all(pending);
    return this.serial(name, async () => {
      const meta = this.metas.get(name);
      if (!meta) {
        if (force) return;
        throw new NotFoundError(`get ${name}: no such volume`);
      }
      if (meta.refs.length) throw new ConflictError(`remove ${name}: volume is in use - [${meta.refs.join(', ')}]`);
      await this.destroy(meta, force);
    });
  }

  private async destroy(meta: VolumeMeta, force = false): Promise<void> {
    const mp = this.mountpoint(meta.name);
    if (meta.driver) {
      // A plugin that cannot remove the volume keeps it, unless forced (its plugin may be gone).
      try {
        await this.pluginDriver(meta.driver)!.remove(meta.name);
      } catch (err) {
        if (!force) throw err;
        log.warn(`volume ${meta.name}: forgotten although ${meta.driver} could not remove it: ${(err as Error).message}`);
      }
    } else if (isMounted(mp)) {
      await unmountVolume(mp);
    }
    // metadata first: a crash mid-delete leaves a directory that open() clears
    await fs.rm(join(this.dir, meta.name, 'volume.json'), { force: true });
    this.metas.delete(meta.name);
    await fs.rm(join(this.dir, meta.name), { recursive: true, force: true });
    this.events.emit({ Type: 'volume', Action: 'destroy', Actor: { ID: meta.name, Attributes: { driver: meta.driver ?? 'local' } } });
  }

  /** Unused volumes; only anonymous ones unless `all` (API >= 1.42 default). */
  async prune(filters: Record<string, string[]> = {}, onlyAnonymous = true): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    await Promise.all([...this.releasing.values()].map((r) => r.done));
    const all = (filters.all ?? []).some((v) => v === 'true' || v === '1');
    const rest = { ...filters };
    delete rest.all;
    const deleted: string[] = [];
    let space = 0;
    for (const meta of [...this.metas.values()]) {
      if (meta.refs.length || (onlyAnonymous && !all && !meta.anonymous) || !matches(meta, rest)) continue;
      const size = await duBytes(this.mountpoint(meta.name));
      await this.remove(meta.name).then(() => { deleted.push(meta.name); space += size; }, () => undefined);
    }
    return { VolumesDeleted: deleted, SpaceReclaimed: space };
  }

  async acquire(spec: MountSpec, containerId: string, rootfsPath: string | null): Promise<{ name: string; hostPath: string }> {
    const name = spec.source || anonymousName();
    const anonymous = spec.anonymous ?? !spec.source;
    validateVolumeName(name);
    // options: a list of mount flags ("nocopy") from -v, or --mount's VolumeOptions fields
    const flags: string[] = Array.isArray(spec.options) ? spec.options : [];
    const vo = (Array.isArray(spec.options) ? {} : spec.options ?? {}) as Record<string, any>;
    const opts = (spec.driverOpts ?? vo.DriverConfig?.Options ?? {}) as Record<string, string>;
    const existing = this.metas.get(name);
    const driver = this.pluginDriver(existing ? existing.driver : spec.driver ?? vo.DriverConfig?.Name);
    if (!existing && !driver) validateDriverOptions(opts);
    return this.serial(name, async () => {
      const labels = { ...(vo.Labels ?? {}), ...(anonymous ? { [ANONYMOUS_LABEL]: '' } : {}) };
      const meta = await this.ensure(name, labels, opts, anonymous, driver);
      let mp = this.mountpoint(name);
      if (driver && (!meta.refs.includes(containerId) || !meta.mountpoint)) {
        // Mounted once per container, unmounted at its release (balanced calls, same ID).
        mp = await driver.mount(name, containerId);
        meta.mountpoint = mp;
      } else if (needsMount(meta.options) && !isMounted(mp)) {
        await mountVolume(meta.options, mp);
      }
      const noCopy = flags.includes('nocopy') || Boolean(vo.NoCopy) || meta.options.copy === 'false';
      if (!noCopy && rootfsPath && !meta.refs.length) await copyUp(join(rootfsPath, spec.target), mp);
      if (!meta.refs.includes(containerId)) {
        meta.refs.push(containerId);
        await writeJsonAtomic(join(this.dir, name, 'volume.json'), meta);
      }
      return { name, hostPath: mp };
    });
  }

  /**
   * Marks a removed container's references as on their way out, before its removal is
   * answered; the release() that follows ends the mark, or the returned function if none does.
   */
  releaseStarting(containerId: string): () => void {
    const end = () => {
      this.releasing.get(containerId)?.end();
      this.releasing.delete(containerId);
    };
    if (this.releasing.has(containerId) || ![...this.metas.values()].some((m) => m.refs.includes(containerId))) return end;
    let resolve!: () => void;
    const done = new Promise<void>((r) => { resolve = r; });
    this.releasing.set(containerId, { done, end: resolve });
    return end;
  }

  async release(containerId: string, opts: { removeAnonymous?: boolean } = {}): Promise<void> {
    try {
      await this.releaseRefs(containerId, opts);
    } finally {
      this.releasing.get(containerId)?.end();
      this.releasing.delete(containerId);
    }
  }

  private async releaseRefs(containerId: string, opts: { removeAnonymous?: boolean }): Promise<void> {
    for (const meta of [...this.metas.values()]) {
      if (!meta.refs.includes(containerId)) continue;
      await this.serial(meta.name, async () => {
        meta.refs = meta.refs.filter((r) => r !== containerId);
        if (meta.driver) {
          await this.pluginDriver(meta.driver)!.unmount(meta.name, containerId)
            .catch((err) => log.warn(`volume ${meta.name}: ${meta.driver} could not unmount it for ${containerId.slice(0, 12)}: ${(err as Error).message}`));
        }
        if (meta.refs.length === 0 && meta.anonymous && opts.removeAnonymous) return this.destroy(meta);
        await writeJsonAtomic(join(this.dir, meta.name, 'volume.json'), meta);
        const mp = this.mountpoint(meta.name);
        if (!meta.driver && meta.refs.length === 0 && needsMount(meta.options) && isMounted(mp)) await unmountVolume(mp);
      });
    }
  }

  /** Entries for GET /system/df. */
  async diskUsage(): Promise<VolumeInfo[]> {
    const out: VolumeInfo[] = [];
    for (const meta of this.metas.values()) {
      out.push({ ...this.info(meta), UsageData: { Size: await duBytes(this.mountpoint(meta.name)), RefCount: meta.refs.length } });
    }
    return out;
  }
}

/** docker's copy-up: a new, empty volume takes the image's content at the mount point, owners and modes kept. */
async function copyUp(source: string, target: string): Promise<void> {
  let st;
  try {
    st = await fs.stat(source);
  } catch {
    return; // nothing in the image there
  }
  if (!st.isDirectory() || (await fs.readdir(target)).length) return;
  await fs.chown(target, st.uid, st.gid);
  await fs.chmod(target, st.mode & 0o7777);
  if (!(await fs.readdir(source)).length) return;
  await new Promise<void>((resolve, reject) => {
    execFile('cp', ['-a', '--', `${source}/.`, `${target}/`], (err, _o, stderr) => (err ? reject(new Error(`copying ${source} into the volume: ${stderr || err.message}`)) : resolve()));
  });
}

function duBytes(path: string): Promise<number> {
  return new Promise((resolve) => {
    execFile('du', ['-sb', path], (err, out) => resolve(err ? 0 : Number(out.split('\t')[0]) || 0));
  });
}

function matches(m: VolumeMeta, f: Record<string, string[]>): boolean {
  if (f.name && !f.name.some((n) => m.name.includes(n))) return false;
  if (f.driver && !f.driver.includes(m.driver ?? 'local')) return false;
  if (f.dangling) {
    const want = f.dangling.some((v) => v === 'true' || v === '1');
    if ((m.refs.length === 0) !== want) return false;
  }
  const has = (w: string) => {
    const [k, v] = w.split('=', 2);
    return k in m.labels && (v === undefined || m.labels[k] === v);
  };
  if (f.label && !f.label.every(has)) return false;
  if (f['label!'] && f['label!'].some(has)) return false;
  return true;
}
