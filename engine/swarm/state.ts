/**
 * What a node keeps on its own disk about its swarm membership (data-root/swarm/):
 *   state.json      node id, role, cluster id, addresses, etcd endpoints
 *   certs/          ca.pem, node.pem, node-key.pem; managers also ca-key.pem and
 *                   data.key (the key that seals secrets in the store)
 *   etcd/           the etcd member's data dir (managers)
 * Written atomically; a missing state.json means "not in a swarm".
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../fsutil.js';
import type { NodeRole } from './ca.js';

export interface LocalState {
  nodeId: string;
  clusterId: string;
  role: NodeRole;
  /** Address other nodes reach this one on. */
  advertiseAddr: string;
  /** Control port (docker's --listen-addr port, 2377); etcd client = +2, peer = +3. */
  port: number;
  /** Address the control port listens on (--listen-addr host; 0.0.0.0 by default). */
  listenHost?: string;
  /** etcd client URLs of the managers, as last known. */
  etcdEndpoints: string[];
  /** Managers only: this member's etcd peer list when it first started. */
  initialCluster?: string;
  initialClusterState?: 'new' | 'existing';
}

export interface LocalCerts { ca: string; cert: string; key: string; caKey?: string; dataKey?: Buffer }

export class LocalStore {
  readonly dir: string;
  constructor(dataRoot: string) {
    this.dir = join(dataRoot, 'swarm');
  }

  get etcdDir(): string { return join(this.dir, 'etcd'); }
  get certDir(): string { return join(this.dir, 'certs'); }
  certPath(name: 'ca.pem' | 'node.pem' | 'node-key.pem'): string { return join(this.certDir, name); }

  load(): { state: LocalState; certs: LocalCerts } | undefined {
    const path = join(this.dir, 'state.json');
    if (!existsSync(path)) return undefined;
    const state = JSON.parse(readFileSync(path, 'utf8')) as LocalState;
    const read = (n: string) => (existsSync(join(this.certDir, n)) ? readFileSync(join(this.certDir, n)) : undefined);
    const certs: LocalCerts = {
      ca: read('ca.pem')!.toString(),
      cert: read('node.pem')!.toString(),
      key: read('node-key.pem')!.toString(),
      caKey: read('ca-key.pem')?.toString(),
      dataKey: read('data.key'),
    };
    return { state, certs };
  }

  /** Certificates first, state.json last: a crash in between leaves "not in a swarm". */
  save(state: LocalState, certs: LocalCerts): void {
    mkdirSync(this.certDir, { recursive: true, mode: 0o700 });
    chmodSync(this.certDir, 0o700);
    writeFileAtomic(join(this.certDir, 'ca.pem'), certs.ca);
    writeFileAtomic(join(this.certDir, 'node.pem'), certs.cert);
    writeFileAtomic(join(this.certDir, 'node-key.pem'), certs.key);
    // a demoted manager keeps neither the CA key nor the data key
    if (certs.caKey) writeFileAtomic(join(this.certDir, 'ca-key.pem'), certs.caKey);
    else rmSync(join(this.certDir, 'ca-key.pem'), { force: true });
    if (certs.dataKey) writeFileAtomic(join(this.certDir, 'data.key'), certs.dataKey);
    else rmSync(join(this.certDir, 'data.key'), { force: true });
    this.saveState(state);
  }

  saveState(state: LocalState): void {
    writeFileAtomic(join(this.dir, 'state.json'), JSON.stringify(state, null, 2) + '\n');
  }

  /** state.json first, so a crash mid-way leaves "not in a swarm" and stray files the next init overwrites. */
  clear(): void {
    rmSync(join(this.dir, 'state.json'), { force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
