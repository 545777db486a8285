/**
 * The cluster store: swarm objects as JSON under /berth/swarm/<kind>/<id> in etcd,
 * through the etcd3 client over mTLS. An object's Version.Index is the etcd
 * mod_revision of its key; updates compare it (docker's "update out of sequence").
 *
 *   cluster/swarm          the one cluster object (spec, join tokens, CA trust root)
 *   nodes/<id>             node records (spec, description, addresses)
 *   alive/<id>             one key per live node, bound to the node's lease
 *   services/<id>, tasks/<id>, secrets/<id>, configs/<id>
 *   ca/root                a CA rotation: phase, trust bundle, new CA certificate
 *   networks/<id>, ipam/<network id>:<ip>   overlay networks and their addresses (netalloc.ts)
 *   leader                 the leader's node id, bound to its election lease (fence)
 */
import type { Etcd3, IKeyValue } from 'etcd3';
import { ConflictError, NotFoundError, UnavailableError } from '../errors.js';

export type Kind = 'cluster' | 'nodes' | 'alive' | 'services' | 'tasks' | 'secrets' | 'configs' | 'ca' | 'networks' | 'ipam';

export const PREFIX = '/berth/swarm/';

export interface Obj<T = any> {
  id: string;
  value: T;
  /** etcd mod_revision. */
  version: number;
  /** etcd create_revision. */
  created: number;
}

export interface TlsMaterial { ca: string; cert: string; key: string }

/** etcd3 (gRPC and its protos) loads only when this node is in a swarm. */
export async function connectEtcd(endpoints: string[], tls: TlsMaterial): Promise<Etcd3> {
  const { Etcd3, isRecoverableError } = await import('etcd3');
  const { circuitBreaker, ConsecutiveBreaker, ExponentialBackoff, handleWhen, isBrokenCircuitError, noJitterGenerator, retry } = await import('cockatiel');
  const connectionError = (err: Error) => isRecoverableError(err) && !err.message.includes('etcdserver:');
  // A call received before an RBAC change (role grant, auth enable) and applied after it is
  // refused unapplied with this: asking again is safe, and it then carries the new revision.
  const authMoved = (err: Error) => err.message.includes('revision of auth store is old');
  return new Etcd3({
    hosts: endpoints,
    credentials: { rootCertificate: Buffer.from(tls.ca), certChain: Buffer.from(tls.cert), privateKey: Buffer.from(tls.key) },
    dialTimeout: 3000,
    // etcd3's default breaker also opens on the server's own refusals ("etcdserver: unhealthy
    // cluster" while a new member connects): only connection failures should take a host out.
    faultHandling: {
      host: () => circuitBreaker(handleWhen(connectionError), { halfOpenAfter: 3000, breaker: new ConsecutiveBreaker(3) }),
      // A call that meets the open breaker waits it out (250 ms + ... + 2 s > halfOpenAfter)
      // instead of failing at once: a member stalled for a moment under load is not a lost quorum.
      global: retry(handleWhen((err) => connectionError(err) || isBrokenCircuitError(err) || authMoved(err)), {
        maxAttempts: 4, backoff: new ExponentialBackoff({ generator: noJitterGenerator, initialDelay: 250, maxDelay: 2000 }),
      }),
    },
  });
}

/** A store call that takes longer has lost its quorum (or every manager). */
const STORE_TIMEOUT_MS = 8000;

const key = (kind: Kind, id: string) => `${PREFIX}${kind}/${id}`;

function toObj(kv: IKeyValue): Obj {
  const k = kv.key.toString();
  return { id: k.slice(k.lastIndexOf('/') + 1), value: JSON.parse(kv.value.toString()), version: Number(kv.mod_revision), created: Number(kv.create_revision) };
}

/** etcd unreachable (no quorum, no member up) becomes one clear error. */
async function guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([fn(), new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${STORE_TIMEOUT_MS / 1000} s`)), STORE_TIMEOUT_MS);
    })]);
  } catch (err) {
    if (err instanceof ConflictError || err instanceof NotFoundError) throw err;
    throw new UnavailableError(`swarm store unavailable while ${what}: ${(err as Error).message} (is a quorum of managers up?)`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A leader's writes carry its fence: they apply only while the leader key it created
 * still exists with that create revision, so a deposed leader cannot write.
 */
export interface Fence { key: string; revision: number }

export class Store {
  constructor(readonly client: Etcd3, readonly fence?: Fence) {}

  /** The same store, every write fenced. */
  fenced(fence: Fence): Store {
    return new Store(this.client, fence);
  }

  private cmp(k: string, target: 'Create' | 'Mod', value: number) {
    const c = this.client.if(k, target, '==', value);
    return this.fence ? c.and(this.fence.key, 'Create', '==', this.fence.revision) : c;
  }

  async get<T>(kind: Kind, id: string): Promise<Obj<T> | undefined> {
    return guard(`reading ${kind}/${id}`, async () => {
      const res = await this.client.get(key(kind, id)).exec();
      return res.kvs[0] ? toObj(res.kvs[0]) : undefined;
    });
  }

  async list<T>(kind: Kind): Promise<Obj<T>[]> {
    return guard(`listing ${kind}`, async () => {
      const res = await this.client.getAll().prefix(`${PREFIX}${kind}/`).exec();
      return res.kvs.map(toObj);
    });
  }

  /** Creates; fails with ConflictError when the id exists. Returns the revision. */
  async create(kind: Kind, id: string, value: unknown): Promise<number> {
    const k = key(kind, id);
    const res = await guard(`creating ${kind}/${id}`, () => this.cmp(k, 'Create', 0).then(this.client.put(k).value(JSON.stringify(value))).commit());
    if (!res.succeeded) throw new ConflictError(this.fence ? `${kind}/${id}: create refused (exists, or this node is no longer the leader)` : `${kind}/${id} already exists`);
    return Number(res.header.revision);
  }

  /** Creates many in transactions of up to 100 (etcd's default max-txn-ops is 128); all or none per transaction. */
  async createMany(kind: Kind, items: [string, unknown][]): Promise<void> {
    for (let i = 0; i < items.length; i += 100) {
      const chunk = items.slice(i, i + 100);
      const res = await guard(`creating ${chunk.length} ${kind}`, () => {
        let c = this.fence ? this.client.if(this.fence.key, 'Create', '==', this.fence.revision) : undefined;
        for (const [id] of chunk) c = c ? c.and(key(kind, id), 'Create', '==', 0) : this.client.if(key(kind, id), 'Create', '==', 0);
        return c!.then(...chunk.map(([id, v]) => this.client.put(key(kind, id)).value(JSON.stringify(v)))).commit();
      });
      if (!res.succeeded) throw new ConflictError(`${kind}: create refused (an id exists, or this node is no longer the leader)`);
    }
  }

  /** Writes when the object is still at `version`; else ConflictError. */
  async update(kind: Kind, id: string, value: unknown, version: number): Promise<number> {
    const k = key(kind, id);
    const res = await guard(`updating ${kind}/${id}`, () => this.cmp(k, 'Mod', version).then(this.client.put(k).value(JSON.stringify(value))).commit());
    if (!res.succeeded) throw new ConflictError('update out of sequence');
    return Number(res.header.revision);
  }

  async delete(kind: Kind, id: string, version?: number): Promise<boolean> {
    const k = key(kind, id);
    if (version === undefined && !this.fence) {
      const res = await guard(`removing ${kind}/${id}`, () => this.client.delete().key(k).exec());
      return Number(res.deleted) > 0;
    }
    const res = await guard(`removing ${kind}/${id}`, () => {
      const c = version === undefined ? this.client.if(this.fence!.key, 'Create', '==', this.fence!.revision) : this.cmp(k, 'Mod', version);
      return c.then(this.client.delete().key(k)).commit();
    });
    return res.succeeded;
  }

  /** Calls onChange (debounce it) on any put or delete under the kinds; returns a closer. */
  async watch(kinds: Kind[], onChange: () => void): Promise<() => Promise<void>> {
    // one watcher per kind: a worker's etcd user may read only some prefixes
    const ws = await Promise.all(kinds.map((k) => this.client.watch().prefix(`${PREFIX}${k}/`).create()));
    for (const w of ws) {
      w.on('put', () => onChange());
      w.on('delete', () => onChange());
      w.on('error', () => undefined);
    }
    return async () => { await Promise.all(ws.map((w) => w.cancel().catch(() => undefined))); };
  }

  close(): void {
    this.client.close();
  }
}
