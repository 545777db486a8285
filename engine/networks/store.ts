import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../fsutil.js';
import type { NetworkRecord, SandboxRecord } from './index.js';

/** Networks and sandboxes as JSON files, each written atomically. */
export class NetworkStore {
  constructor(private readonly dir: string, private readonly sandboxDir: string) {}

  private netPath(id: string) { return join(this.dir, `${id}.json`); }
  private sbPath(id: string) { return join(this.sandboxDir, `${id}.json`); }

  async loadNetworks(): Promise<NetworkRecord[]> {
    return this.loadAll<NetworkRecord>(this.dir);
  }

  async loadSandboxes(): Promise<SandboxRecord[]> {
    return this.loadAll<SandboxRecord>(this.sandboxDir);
  }

  saveNetwork(n: NetworkRecord): Promise<void> { return writeJsonAtomic(this.netPath(n.Id), n); }
  async removeNetwork(id: string): Promise<void> { await fs.rm(this.netPath(id), { force: true }); }
  // Sandboxes live in exec-root and describe kernel state a reboot clears: no fsync.
  saveSandbox(s: SandboxRecord): Promise<void> { return writeJsonAtomic(this.sbPath(s.containerId), s, { durable: false }); }
  async removeSandbox(id: string): Promise<void> { await fs.rm(this.sbPath(id), { force: true }); }

  private async loadAll<T>(dir: string): Promise<T[]> {
    await fs.mkdir(dir, { recursive: true });
    const out: T[] = [];
    for (const f of await fs.readdir(dir)) {
      if (!f.endsWith('.json') || f.startsWith('.')) continue; // .tmp leftovers of a crash are ignored
      try {
        out.push(JSON.parse(await fs.readFile(join(dir, f), 'utf8')) as T);
      } catch {
        // a file is either whole (atomic rename) or absent; anything else is not ours
      }
    }
    return out;
  }
}
