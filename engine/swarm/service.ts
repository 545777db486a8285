/**
 * Swarm mode of one berthd: membership (init, join, leave), the pieces an active
 * node runs, and the manager's API over the store.
 *
 * Active node: a heartbeat lease (alive/<node id>, TTL 6 s) and an agent. A manager
 * also runs its etcd member, the control port, and campaigns for the leader key
 * (lease TTL 5 s); the winner runs the orchestrator, its writes fenced by that key.
 */
import type { Server } from 'node:https';
import os from 'node:os';
import type { Lease } from 'etcd3';
import type { Engine } from '../engine.js';
import { ConflictError, ForbiddenError, InvalidArgumentError, NotFoundError, NotImplementedError, UnavailableError } from '../errors.js';
import { log } from '../log.js';
import { BERTH_VERSION } from '../version.js';
import { chooseAdvertiseAddr } from './addr.js';
import { Agent } from './agent.js';
import { issueNodeCert, newSwarmCa, tlsInfo, type NodeRole } from './ca.js';
import { ctlCall, joinVia, startCtlServer, type JoinRequest, type JoinResponse } from './ctl.js';
import { EtcdMember, etcdUrls } from './etcd.js';
import * as objects from './objects.js';
import { Orchestrator } from './orchestrator.js';
import { newDataKey, unseal } from './seal.js';
import { defaultSwarmSpec, newId, nowIso, NO_SWARM, NOT_MANAGER, SWARM_EXISTS, version, WORKER_NOT_MANAGER } from './spec.js';
import { LocalStore, type LocalCerts, type LocalState } from './state.js';
import { connectEtcd, PREFIX, Store, type Obj } from './store.js';
import { newJoinToken } from './tokens.js';
import { eligibleNodes } from './scheduler.js';
import { INGRESS, createNetwork, findNetwork, networkView, removeNetwork } from './netalloc.js';
import { NetAgent } from './netagent.js';
import type { NetworkService } from '../networks/service.js';

const HEARTBEAT_TTL = 6;
const ELECTION_TTL = 5;

interface Active {
  state: LocalState;
  certs: LocalCerts;
  store: Store;
  member?: EtcdMember;
  ctl?: Server;
  agent?: Agent;
  lease?: Lease;
  electionLease?: Lease;
  orchestrator?: Orchestrator;
  closed: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<T>((_, rej) => { t = setTimeout(() => rej(new UnavailableError(`swarm store did not answer within ${ms / 1000} s while ${what} (is a quorum of managers up?)`)), ms); })]);
  } finally {
    clearTimeout(t);
  }
}

export class SwarmService {
  private readonly local: LocalStore;
  private a?: Active;
  private busy = false;

  constructor(private readonly engine: Engine) {
    this.local = new LocalStore(engine.config.dataRoot);
  }

  /** Resumes the membership a previous run left (data-root/swarm/state.json). */
  async open(): Promise<void> {
    let saved;
    try {
      saved = this.local.load();
    } catch (err) {
      log.error(`swarm: cannot read ${this.local.dir}: ${(err as Error).message}; this node starts outside the swarm`);
      return;
    }
    if (saved) await this.activate(saved.state, saved.certs);
  }

  async shutdown(): Promise<void> {
    if (this.a) await this.deactivate(this.a, false, false);
  }

  // ---- state for /info and /_ping ----

  localState(): 'inactive' | 'active' { return this.a ? 'active' : 'inactive'; }
  role(): NodeRole | undefined { return this.a?.state.role; }

  async info(): Promise<any> {
    const a = this.a;
    if (!a) return { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null };
    const base: any = { NodeID: a.state.nodeId, NodeAddr: a.state.advertiseAddr, LocalNodeState: 'active', ControlAvailable: a.state.role === 'manager', Error: '', RemoteManagers: [] };
    try {
      const [nodes, alive] = await within(3000, Promise.all([a.store.list<any>('nodes'), a.store.list('alive')]), 'reading nodes');
      const managers = nodes.filter((n) => n.value.Spec.Role === 'manager');
      base.RemoteManagers = managers.map((m) => ({ NodeID: m.id, Addr: `${m.value.Addr}:${m.value.Port ?? 2377}` }));
      if (a.state.role === 'manager') {
        base.Nodes = nodes.length;
        base.Managers = managers.length;
        const { JoinTokens: _t, ...cluster } = await this.clusterView(a);
        base.Cluster = cluster;
      }
      void alive;
    } catch (err) {
      base.Error = (err as Error).message;
    }
    return base;
  }

  // ---- membership ----

  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.busy) throw new UnavailableError('another swarm init, join or leave is in progress on this node: wait for it');
    this.busy = true;
    try {
      return await fn();
    } finally {
      this.busy = false;
    }
  }

  async init(req: any): Promise<string> {
    return this.exclusive(async () => {
      if (this.a) throw new UnavailableError(SWARM_EXISTS);
      if (req?.ForceNewCluster) throw new NotImplementedError('--force-new-cluster is not supported by berthd: restore a manager\'s data-root/swarm/etcd instead');
      const { addr, port, listenHost } = chooseAdvertiseAddr(req?.AdvertiseAddr, req?.ListenAddr);
      const nodeId = newId();
      const clusterId = newId();
      const ca = newSwarmCa();
      const node = issueNodeCert(ca, nodeId, 'manager', clusterId, [addr, listenHost]);
      const { clientUrl, peerUrl } = etcdUrls(addr, port);
      const state: LocalState = {
        nodeId, clusterId, role: 'manager', advertiseAddr: addr, port, listenHost, etcdEndpoints: [clientUrl],
        initialCluster: `${nodeId}=${peerUrl}`, initialClusterState: 'new',
      };
      const certs: LocalCerts = { ca: ca.cert, cert: node.cert, key: node.key, caKey: ca.key, dataKey: newDataKey() };
      this.local.save(state, certs);
      try {
        const a = await this.activate(state, certs);
        const now = nowIso();
        await this.waitStore(a, 30_000);
        await a.store.create('cluster', 'swarm', {
          ID: clusterId, CreatedAt: now, UpdatedAt: now, Spec: defaultSwarmSpec(req?.Spec),
          JoinTokens: { Worker: newJoinToken(ca.cert), Manager: newJoinToken(ca.cert) },
          DefaultAddrPool: req?.DefaultAddrPool?.length ? req.DefaultAddrPool : ['10.0.0.0/8'], SubnetSize: req?.SubnetSize || 24, DataPathPort: req?.DataPathPort || 4789,
        });
        await a.store.create('nodes', nodeId, this.nodeRecord(nodeId, 'manager', addr, port, req?.Availability));
        // as docker: the routing mesh's network, the first subnet of the pool
        const cluster = (await a.store.get<any>('cluster', 'swarm'))!.value;
        await createNetwork(a.store, { Name: INGRESS, Labels: {} }, cluster, true);
        return nodeId;
      } catch (err) {
        if (this.a) await this.deactivate(this.a, false, true);
        this.local.clear();
        throw err;
      }
    });
  }

  async join(req: any): Promise<void> {
    return this.exclusive(async () => {
      if (this.a) throw new UnavailableError(SWARM_EXISTS);
      const remotes: string[] = req?.RemoteAddrs ?? [];
      if (!remotes.length) throw new InvalidArgumentError('swarm join needs the address of a manager (RemoteAddrs), e.g. docker swarm join --token TOKEN 10.0.0.1:2377');
      if (!req.JoinToken) throw new InvalidArgumentError('swarm join needs a join token: run "docker swarm join-token worker" on a manager');
      const { addr, port, listenHost } = chooseAdvertiseAddr(req.AdvertiseAddr, req.ListenAddr);
      const jreq: JoinRequest & { port: number; listenHost: string } = {
        token: req.JoinToken, addr, port, listenHost, hostname: os.hostname(), availability: req.Availability, description: this.description(),
      };
      const res = await joinVia(remotes, jreq);
      const state: LocalState = {
        nodeId: res.nodeId, clusterId: res.clusterId, role: res.role, advertiseAddr: addr, port, listenHost, etcdEndpoints: res.etcdEndpoints,
        ...(res.role === 'manager' ? { initialCluster: res.initialCluster, initialClusterState: 'existing' as const } : {}),
      };
      const certs: LocalCerts = { ca: res.ca, cert: res.cert, key: res.key, caKey: res.caKey, dataKey: res.dataKey ? Buffer.from(res.dataKey, 'base64') : undefined };
      this.local.save(state, certs);
      try {
        const a = await this.activate(state, certs);
        await this.waitStore(a, 60_000);
      } catch (err) {
        if (this.a) await this.deactivate(this.a, false, true);
        this.local.clear();
        throw err;
      }
    });
  }

  async leave(force: boolean): Promise<void> {
    return this.exclusive(async () => {
      const a = this.a;
      if (!a) throw new UnavailableError(NO_SWARM);
      if (a.state.role === 'manager' && !force) {
        const [nodes, alive] = await Promise.all([a.store.list<any>('nodes'), a.store.list('alive')]).catch(() => [[], []] as [Obj<any>[], Obj[]]);
        const managers = nodes.filter((n) => n.value.Spec.Role === 'manager');
        const up = new Set(alive.map((x) => x.id));
        if (managers.length <= 1) {
          throw new UnavailableError('You are attempting to leave the swarm on a node that is participating as a manager. Removing the last manager erases all current state of the swarm. Use `--force` to ignore this message.');
        }
        // the etcd members left must still have a quorum of live ones
        const left = managers.length - 1;
        const liveLeft = managers.filter((m) => m.id !== a.state.nodeId && up.has(m.id)).length;
        if (liveLeft < Math.floor(left / 2) + 1) {
          throw new UnavailableError(`You are attempting to leave the swarm on a node that is participating as a manager. Removing this node leaves ${liveLeft} reachable managers out of ${left}. Without a Raft quorum your swarm will be inaccessible. Use \`--force\` to suppress this message.`);
        }
      }
      await this.deactivate(a, true, true);
      this.local.clear();
    });
  }

  private description(): any {
    return {
      Hostname: os.hostname(),
      Platform: { Architecture: os.machine(), OS: 'linux' },
      Resources: { NanoCPUs: os.cpus().length * 1e9, MemoryBytes: os.totalmem() },
      Engine: { EngineVersion: BERTH_VERSION, Labels: Object.fromEntries(this.engine.config.labels.map((l) => { const [k, ...v] = l.split('='); return [k, v.join('=')]; })), Plugins: [{ Type: 'Log', Name: 'json-file' }, { Type: 'Network', Name: 'bridge' }, { Type: 'Volume', Name: 'local' }] },
    };
  }

  private nodeRecord(id: string, role: NodeRole, addr: string, port: number, availability: string | undefined, description?: unknown): any {
    const now = nowIso();
    return {
      ID: id, CreatedAt: now, UpdatedAt: now,
      Spec: { Labels: {}, Role: role, Availability: availability || 'active' },
      Description: description ?? this.description(), Addr: addr, Port: port,
    };
  }

  private async activate(state: LocalState, certs: LocalCerts): Promise<Active> {
    let member: EtcdMember | undefined;
    if (state.role === 'manager') {
      const { clientUrl, peerUrl } = etcdUrls(state.advertiseAddr, state.port);
      member = new EtcdMember({
        name: state.nodeId, dataDir: this.local.etcdDir, runDir: this.local.dir, clientUrl, peerUrl,
        initialCluster: state.initialCluster ?? `${state.nodeId}=${peerUrl}`, initialClusterState: state.initialClusterState ?? 'new',
        clusterToken: state.clusterId, caFile: this.local.certPath('ca.pem'), certFile: this.local.certPath('node.pem'), keyFile: this.local.certPath('node-key.pem'),
      });
      member.start();
    }
    const own = state.role === 'manager' ? [etcdUrls(state.advertiseAddr, state.port).clientUrl] : [];
    const endpoints = [...new Set([...own, ...state.etcdEndpoints])];
    const store = new Store(await connectEtcd(endpoints, certs));
    const a: Active = { state, certs, store, member, closed: false };
    this.a = a;
    try {
      if (state.role === 'manager') {
        a.ctl = await startCtlServer(state.listenHost ?? '0.0.0.0', state.port, certs, {
          ca: () => certs.ca,
          join: (r) => this.admit(a, r as JoinRequest & { port?: number; listenHost?: string }),
          secret: (nodeId, id) => this.secretFor(a, nodeId, id),
        });
      }
    } catch (err) {
      await this.deactivate(a, false, false);
      throw err;
    }
    void this.heartbeat(a);
    void this.runAgent(a);
    if (state.role === 'manager') void this.campaign(a);
    log.info(`swarm: node ${state.nodeId} active as ${state.role} (advertise ${state.advertiseAddr}:${state.port})`);
    return a;
  }

  private async waitStore(a: Active, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      try {
        await within(3000, a.store.client.get(`${PREFIX}ping`).exec(), 'starting');
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new UnavailableError(`swarm store did not come up within ${ms / 1000} s: ${(err as Error).message} (see ${this.local.dir}/etcd.log)`);
        await sleep(300);
      }
    }
  }

  /** leaving: stop and remove this node's task containers, and leave the etcd cluster. */
  private async deactivate(a: Active, leaving: boolean, removeTasks: boolean): Promise<void> {
    a.closed = true;
    if (this.a === a) this.a = undefined;
    await a.orchestrator?.stop().catch(() => undefined);
    // a leaving or stopping leader hands over at once rather than after its lease
    await within(3000, a.electionLease?.revoke() ?? Promise.resolve(), 'stepping down').catch(() => undefined);
    await a.agent?.stop(removeTasks).catch(() => undefined);
    (this.engine.networks as unknown as NetworkService | undefined)?.useSwarm(undefined);
    if (leaving) {
      await within(5000, a.lease?.revoke() ?? Promise.resolve(), 'leaving').catch(() => undefined);
      if (a.member) {
        try {
          const { members } = await within(5000, a.store.client.cluster.memberList({}), 'leaving');
          const me = members.find((m) => m.name === a.state.nodeId);
          if (me && members.length > 1) await within(5000, a.store.client.cluster.memberRemove({ ID: me.ID }), 'leaving');
        } catch (err) {
          log.warn(`swarm leave: could not remove this etcd member: ${(err as Error).message}`);
        }
      }
    } else {
      a.lease?.release();
    }
    a.store.close();
    await new Promise<void>((r) => (a.ctl ? a.ctl.close(() => r()) : r()));
    a.ctl?.closeAllConnections();
    await a.member?.stop();
  }

  private async heartbeat(a: Active): Promise<void> {
    while (!a.closed) {
      try {
        const lease = a.store.client.lease(HEARTBEAT_TTL);
        await lease.put(`${PREFIX}alive/${a.state.nodeId}`).value(JSON.stringify(a.state.advertiseAddr)).exec();
        a.lease = lease;
        await new Promise((r) => lease.once('lost', r));
        if (!a.closed) log.warn('swarm: heartbeat lease lost; renewing');
      } catch (err) {
        log.debug(`swarm heartbeat: ${(err as Error).message}`);
      }
      await sleep(1000);
    }
  }

  private async runAgent(a: Active): Promise<void> {
    while (!a.closed) {
      try {
        const networks = this.engine.networks as unknown as NetworkService | undefined;
        const net = networks ? new NetAgent({ nodeId: a.state.nodeId, addr: a.state.advertiseAddr, store: a.store, networks, table: `berth_swarm_${a.state.nodeId.slice(0, 8)}` }) : undefined;
        const agent = new Agent({ nodeId: a.state.nodeId, store: a.store, engine: this.engine, secret: (id) => this.fetchSecret(a, id), net });
        networks?.useSwarm(net);
        await agent.start();
        if (a.closed) await agent.stop(false);
        else a.agent = agent;
        return;
      } catch (err) {
        log.debug(`swarm agent start: ${(err as Error).message}`);
        await sleep(1000);
      }
    }
  }

  /**
   * Leader election: the leader key, created only when absent and bound to a 5 s lease.
   * Its create revision fences the orchestrator's writes; a lost lease stops it.
   */
  private async campaign(a: Active): Promise<void> {
    const client = a.store.client;
    const leaderKey = `${PREFIX}leader`;
    while (!a.closed) {
      let lease: Lease | undefined;
      try {
        lease = client.lease(ELECTION_TTL);
        a.electionLease = lease;
        const leaseId = await lease.grant();
        let lost = false;
        const lostP = new Promise<void>((r) => lease!.once('lost', () => { lost = true; r(); }));
        while (!a.closed && !lost) {
          const res = await client.if(leaderKey, 'Create', '==', 0).then(client.put(leaderKey).value(JSON.stringify(a.state.nodeId)).lease(leaseId)).commit();
          if (res.succeeded) {
            const o = new Orchestrator(a.store.fenced({ key: leaderKey, revision: Number(res.header.revision) }), a.state.nodeId);
            a.orchestrator = o;
            await o.start();
            await lostP;
            break;
          }
          // someone else leads: wait for the key to go (or our lease to), re-checking every 2 s
          const w = await client.watch().key(leaderKey).create();
          await Promise.race([new Promise((r) => w.once('delete', r)), lostP, sleep(2000)]);
          await w.cancel().catch(() => undefined);
        }
      } catch (err) {
        log.debug(`swarm election: ${(err as Error).message}`);
      }
      if (a.orchestrator) {
        log.warn('swarm: leadership lost; orchestrator stopped');
        await a.orchestrator.stop();
        a.orchestrator = undefined;
      }
      lease?.release();
      if (!a.closed) await sleep(1000);
    }
  }

  private async leaderId(a: Active): Promise<string | undefined> {
    const o = await within(3000, a.store.client.get(`${PREFIX}leader`).string(), 'reading the leader').catch(() => null);
    return o ? JSON.parse(o) : undefined;
  }

  // ---- control port handlers (managers) ----

  private async admit(a: Active, r: JoinRequest & { port?: number; listenHost?: string }): Promise<JoinResponse> {
    const cluster = await a.store.get<any>('cluster', 'swarm');
    if (!cluster) throw new UnavailableError('the swarm is not initialised yet');
    const role: NodeRole | undefined = r.token === cluster.value.JoinTokens.Worker ? 'worker' : r.token === cluster.value.JoinTokens.Manager ? 'manager' : undefined;
    if (!role) throw new InvalidArgumentError('invalid join token: it does not match this swarm\'s current worker or manager token (rotated?)');
    if (!r.addr) throw new InvalidArgumentError('join: the joining node sent no address');
    const nodeId = newId();
    const port = r.port ?? 2377;
    const cert = issueNodeCert({ cert: a.certs.ca, key: a.certs.caKey! }, nodeId, role, a.state.clusterId, [r.addr, r.listenHost ?? '']);
    const description = { ...(r.description as object ?? {}), Hostname: r.hostname };
    await a.store.create('nodes', nodeId, this.nodeRecord(nodeId, role, r.addr, port, r.availability, description));
    let initialCluster: string | undefined;
    if (role === 'manager') {
      const { peerUrl } = etcdUrls(r.addr, port);
      const added = await this.memberAdd(a, peerUrl);
      initialCluster = added.members.map((m) => `${m.name || nodeId}=${m.peerURLs[0]}`).join(',');
    }
    const { members } = await a.store.client.cluster.memberList({});
    const etcdEndpoints = members.flatMap((m) => m.clientURLs);
    if (role === 'manager') etcdEndpoints.push(etcdUrls(r.addr, port).clientUrl);
    log.info(`swarm: node ${nodeId} (${r.hostname}, ${r.addr}) joined as ${role}`);
    return {
      nodeId, clusterId: a.state.clusterId, role, ca: a.certs.ca, cert: cert.cert, key: cert.key, etcdEndpoints: [...new Set(etcdEndpoints)],
      ...(role === 'manager' ? { caKey: a.certs.caKey, dataKey: a.certs.dataKey!.toString('base64'), initialCluster } : {}),
    };
  }

  /** etcd refuses a member while a recent one is not yet fully connected (5 s): retry for a while. */
  private async memberAdd(a: Active, peerUrl: string) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        return await a.store.client.cluster.memberAdd({ peerURLs: [peerUrl] });
      } catch (err) {
        const msg = (err as Error).message;
        if (Date.now() > deadline || !/unhealthy cluster|not enough started members/.test(msg)) throw new UnavailableError(`adding the etcd member ${peerUrl}: ${msg}`);
        await sleep(500);
      }
    }
  }

  private async secretFor(a: Active, nodeId: string, secretId: string): Promise<Buffer> {
    const tasks = await a.store.list<any>('tasks');
    const uses = tasks.some((t) => t.value.NodeID === nodeId && t.value.DesiredState === 'running'
      && (t.value.Spec.ContainerSpec.Secrets ?? []).some((s: any) => s.SecretID === secretId));
    if (!uses) throw new ForbiddenError(`node ${nodeId} has no task that uses secret ${secretId}`);
    return this.unsealed(a, secretId);
  }

  private async unsealed(a: Active, secretId: string): Promise<Buffer> {
    const o = await a.store.get<any>('secrets', secretId);
    if (!o) throw new NotFoundError(`secret ${secretId} not found`);
    return unseal(a.certs.dataKey!, o.value.Sealed);
  }

  /** The agent's way to a secret: managers hold the data key; workers ask a manager. */
  private async fetchSecret(a: Active, id: string): Promise<Buffer> {
    if (a.certs.dataKey) return this.unsealed(a, id);
    const [nodes, alive] = await Promise.all([a.store.list<any>('nodes'), a.store.list('alive')]);
    const up = new Set(alive.map((x) => x.id));
    const managers = nodes.filter((n) => n.value.Spec.Role === 'manager').sort((x, y) => Number(up.has(y.id)) - Number(up.has(x.id)));
    let last: unknown;
    for (const m of managers) {
      try {
        const r = await ctlCall<{ data: string }>(`${m.value.Addr}:${m.value.Port ?? 2377}`, `/secrets/${id}`, { ca: a.certs.ca, cert: a.certs.cert, key: a.certs.key });
        return Buffer.from(r.data, 'base64');
      } catch (err) {
        last = err;
      }
    }
    throw last ?? new UnavailableError('no manager to fetch the secret from');
  }

  // ---- manager API ----

  private manager(): Active {
    const a = this.a;
    if (!a) throw new UnavailableError(NOT_MANAGER);
    if (a.state.role !== 'manager') throw new UnavailableError(WORKER_NOT_MANAGER);
    return a;
  }

  private async clusterView(a: Active): Promise<any> {
    const c = await a.store.get<any>('cluster', 'swarm');
    if (!c) throw new UnavailableError('the swarm is not initialised yet');
    const v = c.value;
    return {
      ID: v.ID, Version: version(c.version), CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt, Spec: v.Spec,
      TLSInfo: tlsInfo(a.certs.ca), RootRotationInProgress: false, DefaultAddrPool: v.DefaultAddrPool, SubnetSize: v.SubnetSize, DataPathPort: v.DataPathPort,
      JoinTokens: v.JoinTokens,
    };
  }

  async inspect(): Promise<any> {
    return this.clusterView(this.manager());
  }

  async update(ver: number, spec: any, flags: { rotateWorkerToken: boolean; rotateManagerToken: boolean; rotateManagerUnlockKey: boolean }): Promise<void> {
    const a = this.manager();
    const c = await a.store.get<any>('cluster', 'swarm');
    if (!c) throw new UnavailableError('the swarm is not initialised yet');
    if (spec?.EncryptionConfig?.AutoLockManagers) throw new NotImplementedError('autolock is not supported by berthd: the etcd data of a manager is protected by file permissions only');
    const tokens = { ...c.value.JoinTokens };
    if (flags.rotateWorkerToken) tokens.Worker = newJoinToken(a.certs.ca);
    if (flags.rotateManagerToken) tokens.Manager = newJoinToken(a.certs.ca);
    await a.store.update('cluster', 'swarm', { ...c.value, Spec: defaultSwarmSpec(spec ?? c.value.Spec), JoinTokens: tokens, UpdatedAt: nowIso() }, ver);
  }

  private async liveness(a: Active): Promise<objects.Liveness> {
    const [alive, leader] = await Promise.all([a.store.list('alive'), this.leaderId(a)]);
    return { alive: new Set(alive.map((x) => x.id)), leader };
  }

  async listNodes(filters: Record<string, string[]>): Promise<any[]> {
    const a = this.manager();
    const [nodes, live] = await Promise.all([a.store.list<any>('nodes'), this.liveness(a)]);
    const tls = tlsInfo(a.certs.ca);
    return nodes.filter(objects.nodeFilter(filters, live)).map((n) => objects.nodeView(n, live, tls));
  }

  async inspectNode(ref: string): Promise<any> {
    const a = this.manager();
    const [n, live] = await Promise.all([objects.findNode(a.store, ref), this.liveness(a)]);
    return objects.nodeView(n, live, tlsInfo(a.certs.ca));
  }

  async updateNode(ref: string, ver: number, spec: any): Promise<void> {
    await objects.updateNode(this.manager().store, ref, ver, spec);
  }

  async removeNode(ref: string, force: boolean): Promise<void> {
    const a = this.manager();
    const [n, live] = await Promise.all([objects.findNode(a.store, ref), this.liveness(a)]);
    if (n.value.Spec.Role === 'manager') throw new ForbiddenError(`rpc error: code = FailedPrecondition desc = node ${n.id} is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal`);
    if (live.alive.has(n.id) && !force) throw new ForbiddenError(`rpc error: code = FailedPrecondition desc = node ${n.id} is not down and can't be removed`);
    await a.store.delete('nodes', n.id);
  }

  async createService(spec: any): Promise<{ ID: string; Warnings?: string[] }> {
    const a = this.manager();
    await this.checkRefs(a, spec);
    return { ID: await objects.createService(a.store, spec) };
  }

  /** Secret and config references name existing objects; fill the missing id or name. */
  private async checkRefs(a: Active, spec: any): Promise<void> {
    const cs = spec?.TaskTemplate?.ContainerSpec;
    if (!cs) return;
    for (const [field, kind, idKey, nameKey, what] of [['Secrets', 'secrets', 'SecretID', 'SecretName', 'secret'], ['Configs', 'configs', 'ConfigID', 'ConfigName', 'config']] as const) {
      if (!cs[field]?.length) continue;
      const all = await a.store.list<any>(kind);
      for (const ref of cs[field]) {
        const o = all.find((x) => x.id === ref[idKey]) ?? all.find((x) => x.value.Spec.Name === ref[nameKey]);
        if (!o) throw new NotFoundError(`${what} not found: ${ref[nameKey] ?? ref[idKey]}`);
        ref[idKey] = o.id;
        ref[nameKey] = o.value.Spec.Name;
      }
    }
  }

  async listServices(filters: Record<string, string[]>, status: boolean): Promise<any[]> {
    const a = this.manager();
    const services = (await a.store.list<any>('services')).filter(objects.serviceFilter(filters));
    if (!status) return services.map((s) => objects.serviceView(s));
    const [tasks, nodes, alive] = await Promise.all([a.store.list<any>('tasks'), a.store.list<any>('nodes'), a.store.list('alive')]);
    const up = new Set(alive.map((x) => x.id));
    return services.map((s) => objects.serviceView(s, objects.serviceStatus(s, tasks, eligibleNodes(nodes, up, s.value.Spec.TaskTemplate.Placement?.Constraints ?? []).length)));
  }

  async inspectService(ref: string): Promise<any> {
    return objects.serviceView(await objects.findService(this.manager().store, ref));
  }

  async updateService(ref: string, ver: number, spec: any, rollback: boolean): Promise<{ Warnings: string[] }> {
    const a = this.manager();
    if (!rollback) await this.checkRefs(a, spec);
    await objects.updateService(a.store, ref, ver, spec, rollback);
    return { Warnings: [] };
  }

  // ---- swarm networks (the /networks routes hand overlays here) ----

  /** The swarm's networks when this node is a manager; undefined elsewhere (the node shows its local copies). */
  async listNetworks(): Promise<any[] | undefined> {
    const a = this.a;
    if (!a || a.state.role !== 'manager') return undefined;
    return (await a.store.list<any>('networks')).map((o) => networkView(o));
  }

  async inspectNetwork(ref: string): Promise<any | undefined> {
    const a = this.a;
    if (!a || a.state.role !== 'manager') return undefined;
    try {
      return networkView(await findNetwork(a.store, ref));
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  async createNetwork(req: any): Promise<{ Id: string; Warning: string }> {
    const a = this.manager();
    const cluster = await a.store.get<any>('cluster', 'swarm');
    return { Id: await createNetwork(a.store, req, cluster!.value), Warning: '' };
  }

  async removeNetwork(ref: string): Promise<void> {
    await removeNetwork(this.manager().store, ref);
  }

  async removeService(ref: string): Promise<void> {
    const a = this.manager();
    const s = await objects.findService(a.store, ref);
    await a.store.delete('services', s.id);
  }

  async listTasks(filters: Record<string, string[]>): Promise<any[]> {
    const a = this.manager();
    const [tasks, services, nodes] = await Promise.all([a.store.list<any>('tasks'), a.store.list<any>('services'), a.store.list<any>('nodes')]);
    const byId = new Map(services.map((s) => [s.id, s.value]));
    const nodeNames = new Map(nodes.map((n) => [n.id, n.value.Description?.Hostname as string]));
    return tasks.filter(objects.taskFilter(filters, byId, nodeNames)).map(objects.taskView);
  }

  async inspectTask(ref: string): Promise<any> {
    const a = this.manager();
    return objects.taskView(await objects.find(a.store, 'tasks', ref, () => '', 'task'));
  }

  async createSecret(kind: 'secrets' | 'configs', spec: any): Promise<{ ID: string }> {
    const a = this.manager();
    if (spec?.Driver?.Name) throw new NotImplementedError('secret drivers are not supported by berthd: store the value in the swarm');
    return { ID: await objects.createSecretOrConfig(a.store, kind, spec, a.certs.dataKey!) };
  }

  async listSecrets(kind: 'secrets' | 'configs', filters: Record<string, string[]>): Promise<any[]> {
    const a = this.manager();
    return (await a.store.list<any>(kind)).filter(objects.secretFilter(filters)).map((o) => objects.secretView(o, kind));
  }

  private findSecret(a: Active, kind: 'secrets' | 'configs', ref: string): Promise<Obj> {
    return objects.find(a.store, kind, ref, (v) => v.Spec.Name, kind === 'secrets' ? 'secret' : 'config');
  }

  async inspectSecret(kind: 'secrets' | 'configs', ref: string): Promise<any> {
    const a = this.manager();
    return objects.secretView(await this.findSecret(a, kind, ref), kind);
  }

  async updateSecret(kind: 'secrets' | 'configs', ref: string, ver: number, spec: any): Promise<void> {
    const a = this.manager();
    const o = await this.findSecret(a, kind, ref);
    if (spec?.Data !== undefined && spec.Data !== o.value.Data) throw new InvalidArgumentError(`rpc error: code = InvalidArgument desc = only updates to Labels are allowed`);
    await a.store.update(kind, o.id, { ...o.value, Spec: { ...o.value.Spec, Labels: spec?.Labels ?? {} }, UpdatedAt: nowIso() }, ver);
  }

  async removeSecret(kind: 'secrets' | 'configs', ref: string): Promise<void> {
    const a = this.manager();
    const o = await this.findSecret(a, kind, ref);
    const users = objects.referencedBy(await a.store.list<any>('services'), kind, o.id);
    const what = kind === 'secrets' ? 'secret' : 'config';
    if (users.length) throw new ConflictError(`rpc error: code = InvalidArgument desc = ${what} '${o.value.Spec.Name}' is in use by the following service: ${users.join(', ')}`);
    await a.store.delete(kind, o.id);
  }
}

