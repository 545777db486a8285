/** Installed plugins on disk (layout in index.ts) and name lookup as dockerd does it. */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { familiarString, parseReference, withDefaultTag, InvalidReferenceError } from '../../src/common/reference.js';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../errors.js';
import { writeJsonAtomic } from '../fsutil.js';
import type { PluginObject } from './index.js';

/** "vol" -> "vol:latest", "docker.io/library/vol" -> "vol:latest"; digests are refused. */
export function normalizeName(name: string): string {
  let ref;
  try {
    ref = parseReference(name);
  } catch (err) {
    if (err instanceof InvalidReferenceError) throw new InvalidArgumentError(`invalid plugin name "${name}": ${err.message}`);
    throw err;
  }
  if (ref.digest) throw new InvalidArgumentError(`invalid plugin name "${name}": canonical references are not permitted (give NAME[:TAG])`);
  return familiarString(withDefaultTag(ref));
}

export class PluginStore {
  private readonly plugins = new Map<string, PluginObject>();

  private constructor(readonly dir: string) {}

  static async open(dataRoot: string): Promise<PluginStore> {
    const store = new PluginStore(join(dataRoot, 'plugins'));
    await fs.mkdir(store.dir, { recursive: true, mode: 0o700 });
    // creates and removes that did not finish
    await fs.rm(store.tmpDir(), { recursive: true, force: true });
    for (const id of await fs.readdir(store.dir)) {
      if (!/^[0-9a-f]{64}$/.test(id)) continue;
      await store.finishUpgrade(id);
      try {
        const p = JSON.parse(await fs.readFile(join(store.dir, id, 'plugin.json'), 'utf8')) as PluginObject;
        store.plugins.set(p.Id, p);
      } catch {
        await fs.rm(join(store.dir, id), { recursive: true, force: true }).catch(() => undefined);
      }
    }
    return store;
  }

  tmpDir(): string { return join(this.dir, 'tmp'); }
  pluginDir(id: string): string { return join(this.dir, id); }
  rootfs(id: string): string { return join(this.dir, id, 'rootfs'); }
  propagatedMount(id: string): string { return join(this.dir, id, 'propagated-mount'); }

  all(): PluginObject[] {
    return [...this.plugins.values()];
  }

  /** By full name, name without ":latest", or unique id prefix (dockerd's GetV2Plugin). */
  get(nameOrId: string): PluginObject {
    let full: string | undefined;
    try {
      full = normalizeName(nameOrId);
    } catch {
      full = undefined;
    }
    const byName = this.all().find((p) => p.Name === full);
    if (byName) return byName;
    if (/^[0-9a-f]+$/.test(nameOrId)) {
      const matches = this.all().filter((p) => p.Id.startsWith(nameOrId));
      if (matches.length === 1) return matches[0];
      if (matches.length > 1) throw new InvalidArgumentError(`multiple plugins found for "${nameOrId}"`);
    }
    throw new NotFoundError(`plugin "${nameOrId}" not found`);
  }

  /**
   * An upgrade unpacks rootfs.new, writes upgrade.json (the commit point), swaps the
   * rootfs directories and renames upgrade.json over plugin.json. At start, one that
   * reached its commit point is finished; one that did not is undone.
   */
  private async finishUpgrade(id: string): Promise<void> {
    const dir = this.pluginDir(id);
    const has = (name: string) => fs.stat(join(dir, name)).then(() => true, () => false);
    if (await has('upgrade.json')) {
      if (await has('rootfs.new')) {
        if (await has('rootfs')) await fs.rename(join(dir, 'rootfs'), join(dir, 'rootfs.old'));
        await fs.rename(join(dir, 'rootfs.new'), join(dir, 'rootfs'));
      }
      await fs.rename(join(dir, 'upgrade.json'), join(dir, 'plugin.json'));
    }
    await fs.rm(join(dir, 'rootfs.new'), { recursive: true, force: true });
    await fs.rm(join(dir, 'rootfs.old'), { recursive: true, force: true });
  }

  /** Where an upgrade unpacks the new rootfs. */
  newRootfs(id: string): string { return join(this.dir, id, 'rootfs.new'); }

  /** Makes the upgrade (newRootfs() unpacked) the plugin, crash-safely (finishUpgrade). */
  async upgrade(p: PluginObject): Promise<void> {
    const dir = this.pluginDir(p.Id);
    await writeJsonAtomic(join(dir, 'upgrade.json'), p);
    await this.finishUpgrade(p.Id);
    this.plugins.set(p.Id, p);
  }

  hasName(name: string): boolean {
    return this.all().some((p) => p.Name === name);
  }

  /** Moves a staged plugin directory (rootfs/ inside) into place, plugin.json last written before. */
  async add(staged: string, p: PluginObject): Promise<void> {
    if (this.hasName(p.Name)) throw new ConflictError(`plugin ${p.Name} already exists`);
    await writeJsonAtomic(join(staged, 'plugin.json'), p);
    await fs.rename(staged, this.pluginDir(p.Id));
    this.plugins.set(p.Id, p);
  }

  async save(p: PluginObject): Promise<void> {
    await writeJsonAtomic(join(this.pluginDir(p.Id), 'plugin.json'), p);
    this.plugins.set(p.Id, p);
  }

  /** plugin.json goes first (rename into tmp/): a crash mid-removal leaves nothing half-installed. */
  async remove(p: PluginObject): Promise<void> {
    await fs.mkdir(this.tmpDir(), { recursive: true });
    const doomed = join(this.tmpDir(), `rm-${p.Id}`);
    await fs.rename(this.pluginDir(p.Id), doomed);
    this.plugins.delete(p.Id);
    await fs.rm(doomed, { recursive: true, force: true });
  }
}
