/**
 * The container store: records in memory, each persisted atomically under
 * data-root/containers/<id>/container.json; lookup by full id, unique id prefix or name.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../errors.js';
import { writeJsonAtomic } from '../fsutil.js';
import { removeTree } from '../runtime/spawner.js';
import type { ContainerRecord } from './record.js';

const RECORD_FILE = 'container.json';

export class ContainerStore {
  private byId = new Map<string, ContainerRecord>();
  private byName = new Map<string, string>();

  constructor(readonly root: string) {}

  dir(id: string): string {
    return join(this.root, id);
  }

  /** Loads every record; a directory without a complete record is a create that never finished. */
  load(): { loaded: ContainerRecord[]; discarded: string[] } {
    const loaded: ContainerRecord[] = [];
    const discarded: string[] = [];
    let entries: string[] = [];
    try {
      entries = readdirSync(this.root);
    } catch {
      return { loaded, discarded };
    }
    for (const id of entries) {
      if (!/^[0-9a-f]{64}$/.test(id)) continue;
      // Temp files of writes a crash interrupted: the renamed file (or none) is the truth.
      for (const f of readdirSafe(join(this.root, id))) if (/^\..*\.tmp$/.test(f)) rmSync(join(this.root, id, f), { force: true });
      let rec: ContainerRecord;
      try {
        rec = JSON.parse(readFileSync(join(this.root, id, RECORD_FILE), 'utf8')) as ContainerRecord;
      } catch {
        discarded.push(id);
        continue;
      }
      this.byId.set(id, rec);
      this.byName.set(rec.name, id);
      loaded.push(rec);
    }
    return { loaded, discarded };
  }

  all(): ContainerRecord[] {
    return [...this.byId.values()];
  }

  /** Reserves the name; throws 409 if another container has it. */
  reserveName(name: string, id: string): void {
    const owner = this.byName.get(name);
    if (owner && owner !== id) {
      throw new ConflictError(`Conflict. The container name "/${name}" is already in use by container "${owner}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    this.byName.set(name, id);
  }

  releaseName(name: string, id: string): void {
    if (this.byName.get(name) === id) this.byName.delete(name);
  }

  hasName(name: string): boolean {
    return this.byName.has(name);
  }

  private writes = new Map<string, Promise<void>>();

  /**
   * Writes are chained per container and serialize the record when their turn
   * comes, so the file always ends with the newest state; none runs after delete.
   */
  save(rec: ContainerRecord): Promise<void> {
    this.byId.set(rec.id, rec);
    const prev = this.writes.get(rec.id) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(() => {
      if (this.byId.get(rec.id) !== rec) return undefined;
      return writeJsonAtomic(join(this.dir(rec.id), RECORD_FILE), rec);
    });
    this.writes.set(rec.id, next);
    void next.catch(() => undefined).then(() => {
      if (this.writes.get(rec.id) === next) this.writes.delete(rec.id);
    });
    return next;
  }

  /**
   * Forgets the container and removes its record file: a crash after this leaves no
   * loadable half. The directory's other files (logs, /etc files) are `removeDir`'s.
   */
  async delete(id: string): Promise<void> {
    const rec = this.byId.get(id);
    if (rec) this.releaseName(rec.name, id);
    this.byId.delete(id);
    await this.writes.get(id)?.catch(() => undefined);
    rmSync(join(this.dir(id), RECORD_FILE), { force: true });
  }

  /** The rest of a deleted container's directory (load() removes it after a crash). */
  removeDir(id: string): Promise<void> {
    return removeTree(this.dir(id));
  }

  find(ref: string): ContainerRecord | undefined {
    if (!ref) return undefined;
    const bare = ref.startsWith('/') ? ref.slice(1) : ref;
    const exact = this.byId.get(bare);
    if (exact) return exact;
    const named = this.byName.get(bare);
    if (named) return this.byId.get(named);
    if (!/^[0-9a-f]+$/.test(bare)) return undefined;
    const matches = [...this.byId.keys()].filter((id) => id.startsWith(bare));
    if (matches.length > 1) throw new InvalidArgumentError(`multiple IDs found with provided prefix: ${bare}`);
    return matches.length ? this.byId.get(matches[0]) : undefined;
  }

  get(ref: string): ContainerRecord {
    const rec = this.find(ref);
    if (!rec) throw new NotFoundError(`No such container: ${ref}`);
    return rec;
  }
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
