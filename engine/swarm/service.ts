/**
 * Swarm mode of one berthd: membership (init, join, leave), the pieces an active
 * node runs, and the manager's API over the store.
 *
 * Active node: a heartbeat lease (alive/<node id>, TTL 6 s) and an agent. A manager
 * also runs its etcd member, the control port, and campaigns for the leader key
 * (lease TTL 5 s); the winner runs the orchestrator, its writes fenced by that key.
 */
import type { Server } from 'node:https';
import { rmSync } from 'node:fs';
import os from 'node:os';
import type { Lease } from 'etcd3';
import type { Engine } from '../engine.js';
import { ConflictError, ForbiddenError, InvalidArgumentError, NotFoundError, NotImplementedError, UnavailableError } from '../errors.js';
import { log } from '../log.js';
import { BERTH_VERSION } from '../version.js';
import { chooseAdvertiseAddr } from './addr.js';
import { Agent } from './agent.js';
import { caDigest, fingerprint, issueNodeCert, newSwarmCa, pemBlocks, signedBy, tlsInfo, type NodeRole } from './ca.js';
import { ctlCall, joinVia, startCtlServer, type JoinRequest, type JoinResponse } from './ctl.js';
import { EtcdMember, etcdUrls } from './etcd.js';
import * as objects from './objects.js';
import { Orchestrator } from './orchestrator.js';
import { newDataKey, seal, unseal } from './seal.js';
import { defaultSwarmSpec, newId, nowIso, NO_SWARM, NOT_MANAGER, SWARM_EXISTS, version, WORKER_NOT_MANAGER } from './spec.js';
import { LocalStore, type LocalCerts, type LocalState } from './state.js';
import { connectEtcd, PREFIX, Store, type Obj } from './store.js';
import { newJoinToken } from './tokens.js';
import { eligibleNodes } from './scheduler.js';
import { dropNode, enableAuth, grantNode } from './auth.js';
import { mergeLogs, nodeTaskLogs, paramsToQuery, type TaskLogQuery } from './logs.js';
import type { ContainerService } from '../containers/service.js';
import type { Readable } from 'node:stream';
import { INGRESS, createNetwork, findNetwork, networkView, removeNetwork } from './netalloc.js';
import { NetAgent } from './netagent.js';
import type { NetworkService } from '../networks/service.js';

const HEARTBEAT_TTL = 6;
const AUTH_MARK = `${PREFIX}auth`;
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
  /** The control address of the manager that answered this node last. */
  lastManager?: string;
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
        await this.ensureAuth(a);
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
      a.ctl = await startCtlServer(state.listenHost ?? '0.0.0.0', state.port, certs, {
        ca: () => certs.ca,
        join: (r) => this.admit(a, r as JoinRequest & { port?: number; listenHost?: string }),
        secret: (nodeId, id) => this.secretFor(a, nodeId, id),
        renew: (nodeId, r) => this.renew(a, nodeId, r),
        taskStatus: (nodeId, taskId, r) => this.taskStatus(a, nodeId, taskId, r),
        logs: (taskId, query, signal) => nodeTaskLogs(this.engine.containers as unknown as ContainerService, taskId, paramsToQuery(query), signal),
      });
    } catch (err) {
      await this.deactivate(a, false, false);
      throw err;
    }
    void this.heartbeat(a);
    void this.runAgent(a);
    void this.followRole(a);
    void this.followCa(a);
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
    // close() waits for open connections (a manager following logs): cut them
    const closed = new Promise<void>((r) => (a.ctl ? a.ctl.close(() => r()) : r()));
    a.ctl?.closeAllConnections();
    await closed;
    await a.member?.stop();
  }

  /** A promote or demote shows as a new Spec.Role in this node's record: this node then takes that role. */
  private async followRole(a: Active): Promise<void> {
    let wake = () => undefined as void;
    let close: (() => Promise<void>) | undefined;
    void a.store.watch(['nodes'], () => wake()).then((c) => (a.closed ? void c() : (close = c))).catch(() => undefined);
    while (!a.closed) {
      try {
        const me = await a.store.get<any>('nodes', a.state.nodeId);
        if (me && me.value.Spec.Role !== a.state.role && !this.busy) await this.changeRole(a, me.value.Spec.Role);
      } catch (err) {
        if (!a.closed) log.warn(`swarm: taking this node's new role: ${(err as Error).message}; retrying`);
      }
      await new Promise<void>((r) => { wake = r; setTimeout(r, 2000).unref(); });
    }
    await close?.();
  }

  /** Promote: a manager certificate, the CA and data keys, an etcd member; demote: back to a worker's. Containers keep running. */
  private async changeRole(a: Active, role: NodeRole): Promise<void> {
    log.info(`swarm: node ${a.state.nodeId} becomes a ${role}`);
    await this.reissue(a, role, () => this.callManager<JoinResponse>(a, '/renew', { listenHost: a.state.listenHost }));
  }

  /** Takes a renewed certificate (and trust root, keys, etcd members) and restarts this node's swarm pieces with it. */
  private async reissue(a: Active, role: NodeRole, ask: () => Promise<JoinResponse>): Promise<void> {
    await this.exclusive(async () => {
      if (this.a !== a || a.closed) return;
      const res = await ask();
      if (res.role !== role) throw new UnavailableError(`the manager issued a ${res.role} certificate, not a ${role} one`);
      const state: LocalState = {
        ...a.state, role, etcdEndpoints: res.etcdEndpoints,
        // a manager that stays one keeps its member as it is
        ...(role === a.state.role ? {} : { initialCluster: role === 'manager' ? res.initialCluster : undefined, initialClusterState: role === 'manager' ? 'existing' as const : undefined }),
      };
      const certs: LocalCerts = { ca: res.ca, cert: res.cert, key: res.key, caKey: res.caKey, dataKey: res.dataKey ? Buffer.from(res.dataKey, 'base64') : undefined };
      await this.deactivate(a, false, false);
      if (role !== a.state.role) rmSync(this.local.etcdDir, { recursive: true, force: true });
      this.local.save(state, certs);
      await this.activate(state, certs);
    });
  }

  /**
   * CA rotation (docker swarm ca --rotate), in three phases the leader advances once
   * every live node reports (in its alive key) that it has reached the current one:
   *   trust   every node trusts old + new CA (its certificate still from the old)
   *   certs   every node has a certificate from the new CA
   *   done    every node trusts the new CA only: certificates of the old are refused
   * A node that lags behind the phase renews (managers sign with the new CA's key,
   * kept sealed in the store) and restarts its swarm pieces; containers keep running.
   */
  private async followCa(a: Active): Promise<void> {
    while (!a.closed) {
      try {
        const r = await a.store.get<any>('ca', 'root');
        if (r && !this.busy) {
          const { Phase, Trust, New } = r.value;
          const wantTrust = Phase === 'done' ? New : Trust;
          if (a.certs.ca !== wantTrust || (Phase !== 'trust' && !signedBy(a.certs.cert, New))) {
            log.info(`swarm: CA rotation (${Phase}): renewing this node's certificate and trust root`);
            await this.reissue(a, a.state.role, () => (a.state.role === 'manager'
              ? this.renew(a, a.state.nodeId, { listenHost: a.state.listenHost })
              : this.callManager<JoinResponse>(a, '/renew', { listenHost: a.state.listenHost })));
          } else if (a.orchestrator && Phase !== 'done') {
            await this.advanceRotation(a, r);
          }
        }
      } catch (err) {
        if (!a.closed) log.warn(`swarm: CA rotation: ${(err as Error).message}; retrying`);
      }
      await sleep(1000);
    }
  }

  private async advanceRotation(a: Active, r: Obj<any>): Promise<void> {
    const { Phase, Trust, New } = r.value;
    const alive = await a.store.list<any>('alive');
    const ready = alive.every((x) => (Phase === 'trust' ? x.value?.Trust === caDigest(Trust) : x.value?.Issuer === fingerprint(New)));
    if (!ready) return;
    const next = Phase === 'trust' ? 'certs' : 'done';
    if (next === 'done') {
      // join tokens carry the CA's digest
      const c = await a.store.get<any>('cluster', 'swarm');
      if (c) await a.store.update('cluster', 'swarm', { ...c.value, JoinTokens: { Worker: newJoinToken(New), Manager: newJoinToken(New) }, UpdatedAt: nowIso() }, c.version);
    }
    await a.store.update('ca', 'root', { ...r.value, Phase: next }, r.version);
    log.info(`swarm: CA rotation: every live node reached "${Phase}"; now "${next}"`);
  }

  private async heartbeat(a: Active): Promise<void> {
    while (!a.closed) {
      try {
        const lease = a.store.client.lease(HEARTBEAT_TTL);
        // what this node trusts and which CA issued its certificate: the leader's CA rotation waits on them
        const issuer = pemBlocks(a.certs.ca).find((c) => signedBy(a.certs.cert, c));
        await lease.put(`${PREFIX}alive/${a.state.nodeId}`).value(JSON.stringify({ Addr: a.state.advertiseAddr, Trust: caDigest(a.certs.ca), Issuer: issuer ? fingerprint(issuer) : '' })).exec();
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
        const agent = new Agent({
          nodeId: a.state.nodeId, store: a.store, engine: this.engine, secret: (id) => this.fetchSecret(a, id), net,
          // a worker's etcd user may not write tasks: its status goes through a manager
          updateTask: async (id, value, version) => (a.state.role === 'manager'
            ? a.store.update('tasks', id, value, version)
            : (await this.callManager<{ version: number }>(a, `/tasks/${id}/status`, { value, version })).version),
        });
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
            await this.ensureAuth(a).catch((err) => log.warn(`swarm: turning on etcd auth: ${(err as Error).message}`));
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
    if (a.state.role !== 'manager') throw new UnavailableError('this node is a worker: join through a manager\'s address');
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
    await grantNode(a.store.client, nodeId, role);
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

  /** A node's certificate for the role its record has now; a manager's etcd member added, a worker's removed. */
  private async renew(a: Active, nodeId: string, r: { listenHost?: string }): Promise<JoinResponse> {
    if (a.state.role !== 'manager') throw new UnavailableError('this node is a worker: ask a manager');
    const [n, nodes] = await Promise.all([a.store.get<any>('nodes', nodeId), a.store.list<any>('nodes')]);
    if (!n) throw new NotFoundError(`node ${nodeId} is not in this swarm (removed?)`);
    const role: NodeRole = n.value.Spec.Role;
    const { peerUrl, clientUrl } = etcdUrls(n.value.Addr, n.value.Port ?? 2377);
    const { signer, trust } = await this.signer(a);
    const cert = issueNodeCert(signer, nodeId, role, a.state.clusterId, [n.value.Addr, r.listenHost ?? '']);
    // before MemberAdd: until the new member runs, writes wait for it (quorum of the grown cluster)
    if (role === 'manager') await grantNode(a.store.client, nodeId, role);
    let { members } = await a.store.client.cluster.memberList({});
    const mine = members.find((m) => m.peerURLs.includes(peerUrl));
    if (role === 'manager' && !mine) ({ members } = await this.memberAdd(a, peerUrl));
    if (role === 'worker' && mine) {
      await a.store.client.cluster.memberRemove({ ID: mine.ID });
      members = members.filter((m) => m !== mine);
    }
    // a member not started yet has no name: its node is the one with that peer URL
    const nameOf = (m: { name: string; peerURLs: string[]; ID: string }) => m.name
      || nodes.find((x) => m.peerURLs.includes(etcdUrls(x.value.Addr, x.value.Port ?? 2377).peerUrl))?.id || m.ID;
    if (role === 'worker') await grantNode(a.store.client, nodeId, role);
    log.info(`swarm: node ${nodeId} renewed its certificate as a ${role}`);
    return {
      nodeId, clusterId: a.state.clusterId, role, ca: trust, cert: cert.cert, key: cert.key,
      etcdEndpoints: [...new Set([...members.flatMap((m) => m.clientURLs), ...(role === 'manager' ? [clientUrl] : [])])],
      ...(role === 'manager' ? { caKey: signer.key, dataKey: a.certs.dataKey!.toString('base64'), initialCluster: members.map((m) => `${nameOf(m)}=${m.peerURLs[0]}`).join(',') } : {}),
    };
  }

  /** The CA that signs now and the trust root nodes should have (they change during a CA rotation). */
  private async signer(a: Active): Promise<{ signer: { cert: string; key: string }; trust: string }> {
    const r = await a.store.get<any>('ca', 'root');
    const own = pemBlocks(a.certs.ca);
    const current = { cert: own[own.length - 1] ?? a.certs.ca, key: a.certs.caKey! };
    if (!r) return { signer: current, trust: a.certs.ca };
    const { Phase, Trust, New } = r.value;
    // until every node trusts both, the old CA (first in the bundle) signs on
    if (Phase === 'trust') return { signer: { cert: pemBlocks(Trust)[0], key: a.certs.caKey! }, trust: Trust };
    const k = await a.store.get<any>('cluster', 'ca-key');
    if (!k) throw new UnavailableError('the new CA key of the rotation is missing from the store');
    return { signer: { cert: New, key: unseal(a.certs.dataKey!, k.value.Sealed).toString() }, trust: Phase === 'done' ? New : Trust };
  }

  /** A worker's task status, written for it when the task is assigned to it. */
  private async taskStatus(a: Active, nodeId: string, taskId: string, r: { value: any; version: number }): Promise<{ version: number }> {
    if (a.state.role !== 'manager') throw new UnavailableError('this node is a worker: ask a manager');
    const t = await a.store.get<any>('tasks', taskId);
    if (!t) throw new NotFoundError(`task ${taskId} not found`);
    if (t.value.NodeID !== nodeId) throw new ForbiddenError(`task ${taskId} is not assigned to node ${nodeId}`);
    if (t.version !== r?.version) throw new ConflictError('update out of sequence');
    const value = { ...t.value, Status: r.value?.Status ?? t.value.Status, UpdatedAt: nowIso() };
    return { version: await a.store.update('tasks', taskId, value, t.version) };
  }

  /** etcd RBAC on (once per store; see auth.ts). */
  private async ensureAuth(a: Active): Promise<void> {
    if (await a.store.client.get(AUTH_MARK).string()) return;
    const nodes = await a.store.list<any>('nodes');
    // this manager itself even before its record exists (init and the first election race)
    const all = [{ id: a.state.nodeId, role: 'manager' as NodeRole }, ...nodes.filter((n) => n.id !== a.state.nodeId).map((n) => ({ id: n.id, role: n.value.Spec.Role as NodeRole }))];
    await enableAuth(a.store.client, all);
    await a.store.client.put(AUTH_MARK).value('on').exec();
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
    if (a.state.role !== 'manager') throw new UnavailableError('this node is a worker: secrets come from a manager');
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
    const r = await this.callManager<{ data: string }>(a, `/secrets/${id}`);
    return Buffer.from(r.data, 'base64');
  }

  /** A control-port call to another manager (live ones first), with this node's certificate. */
  private async callManager<T>(a: Active, path: string, body?: unknown): Promise<T> {
    const tls = { ca: a.certs.ca, cert: a.certs.cert, key: a.certs.key, body };
    // the manager that answered last, without reading the node list (a worker's status writes go this way)
    if (a.lastManager) {
      try {
        return await ctlCall<T>(a.lastManager, path, tls);
      } catch {
        a.lastManager = undefined;
      }
    }
    const [nodes, alive] = await Promise.all([a.store.list<any>('nodes'), a.store.list('alive')]);
    const up = new Set(alive.map((x) => x.id));
    const managers = nodes.filter((n) => n.value.Spec.Role === 'manager' && n.id !== a.state.nodeId).sort((x, y) => Number(up.has(y.id)) - Number(up.has(x.id)));
    let last: unknown;
    for (const m of managers) {
      try {
        const addr = `${m.value.Addr}:${m.value.Port ?? 2377}`;
        const r = await ctlCall<T>(addr, path, tls);
        a.lastManager = addr;
        return r;
      } catch (err) {
        last = err;
      }
    }
    throw last ?? new UnavailableError('no other manager to ask');
  }

  // ---- manager API ----

  private manager(): Active {
    const a = this.a;
    if (!a) throw new UnavailableError(NOT_MANAGER);
    if (a.state.role !== 'manager') throw new UnavailableError(WORKER_NOT_MANAGER);
    return a;
  }

  private async clusterView(a: Active): Promise<any> {
    const [c, rotation] = await Promise.all([a.store.get<any>('cluster', 'swarm'), a.store.get<any>('ca', 'root')]);
    if (!c) throw new UnavailableError('the swarm is not initialised yet');
    const v = c.value;
    return {
      ID: v.ID, Version: version(c.version), CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt, Spec: v.Spec,
      TLSInfo: tlsInfo(pemBlocks(a.certs.ca).pop() ?? a.certs.ca), RootRotationInProgress: Boolean(rotation && rotation.value.Phase !== 'done'), DefaultAddrPool: v.DefaultAddrPool, SubnetSize: v.SubnetSize, DataPathPort: v.DataPathPort,
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
    const ca = spec?.CAConfig ?? {};
    if (ca.SigningCACert || ca.ExternalCAs?.length) {
      throw new NotImplementedError('a CA of your own (docker swarm ca --ca-cert, --external-ca) is not supported by berthd: docker swarm ca --rotate makes a new one');
    }
    if ((ca.ForceRotate ?? 0) !== (c.value.Spec.CAConfig?.ForceRotate ?? 0)) await this.startRotation(a);
    const tokens = { ...c.value.JoinTokens };
    if (flags.rotateWorkerToken) tokens.Worker = newJoinToken(a.certs.ca);
    if (flags.rotateManagerToken) tokens.Manager = newJoinToken(a.certs.ca);
    await a.store.update('cluster', 'swarm', { ...c.value, Spec: defaultSwarmSpec(spec ?? c.value.Spec), JoinTokens: tokens, UpdatedAt: nowIso() }, ver);
  }

  private async startRotation(a: Active): Promise<void> {
    const r = await a.store.get<any>('ca', 'root');
    if (r && r.value.Phase !== 'done') throw new ConflictError(`a CA rotation is in progress (phase ${r.value.Phase}): wait for it to end`);
    const seq = (r?.value.Seq ?? 0) + 1;
    const next = newSwarmCa(`swarm-ca-${seq}`);
    const sealed = { Sealed: seal(a.certs.dataKey!, Buffer.from(next.key)) };
    const k = await a.store.get<any>('cluster', 'ca-key');
    if (k) await a.store.update('cluster', 'ca-key', sealed, k.version);
    else await a.store.create('cluster', 'ca-key', sealed);
    const value = { Seq: seq, Phase: 'trust', Trust: `${a.certs.ca.trimEnd()}\n${next.cert.trimEnd()}\n`, New: next.cert, StartedAt: nowIso() };
    if (r) await a.store.update('ca', 'root', value, r.version);
    else await a.store.create('ca', 'root', value);
    log.info(`swarm: CA rotation ${seq} started`);
  }

  private async liveness(a: Active): Promise<objects.Liveness> {
    const [alive, leader, members] = await Promise.all([
      a.store.list('alive'), this.leaderId(a),
      within(3000, a.store.client.cluster.memberList({}), 'listing etcd members').then((r) => new Set(r.members.map((m) => m.name).filter(Boolean))).catch(() => undefined),
    ]);
    return { alive: new Set(alive.map((x) => x.id)), leader, members };
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

  /**
   * A role change takes effect on the node itself (it renews its certificate, see
   * followRole). A demotion must leave a quorum of live managers; the etcd member of a
   * demoted node that is down is removed here, a live one removes its own on renewal.
   */
  async updateNode(ref: string, ver: number, spec: any): Promise<void> {
    const a = this.manager();
    const n = await objects.findNode(a.store, ref);
    const demote = n.value.Spec.Role === 'manager' && spec?.Role === 'worker';
    let up = new Set<string>();
    if (demote) {
      const [nodes, alive] = await Promise.all([a.store.list<any>('nodes'), a.store.list('alive')]);
      up = new Set(alive.map((x) => x.id));
      const managers = nodes.filter((m) => m.value.Spec.Role === 'manager');
      if (managers.length <= 1) throw new ForbiddenError('rpc error: code = FailedPrecondition desc = attempting to demote the last manager of the swarm');
      const left = managers.length - 1;
      const liveLeft = managers.filter((m) => m.id !== n.id && up.has(m.id)).length;
      if (liveLeft < Math.floor(left / 2) + 1) throw new ForbiddenError('rpc error: code = FailedPrecondition desc = can\'t remove member from the raft: this would result in a loss of quorum');
    }
    await objects.updateNode(a.store, ref, ver, spec);
    if (demote && !up.has(n.id)) {
      const { peerUrl } = etcdUrls(n.value.Addr, n.value.Port ?? 2377);
      const { members } = await a.store.client.cluster.memberList({});
      const m = members.find((x) => x.peerURLs.includes(peerUrl));
      if (m) await a.store.client.cluster.memberRemove({ ID: m.ID });
    }
  }

  async removeNode(ref: string, force: boolean): Promise<void> {
    const a = this.manager();
    const [n, live] = await Promise.all([objects.findNode(a.store, ref), this.liveness(a)]);
    if (n.value.Spec.Role === 'manager') throw new ForbiddenError(`rpc error: code = FailedPrecondition desc = node ${n.id} is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal`);
    if (live.alive.has(n.id) && !force) throw new ForbiddenError(`rpc error: code = FailedPrecondition desc = node ${n.id} is not down and can't be removed`);
    await a.store.delete('nodes', n.id);
    await dropNode(a.store.client, n.id).catch((err) => log.warn(`swarm: removing node ${n.id}'s etcd user: ${(err as Error).message}`));
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

  /** docker service logs: every task's log from the node that runs it. */
  async logs(kind: 'service' | 'task', ref: string, q: TaskLogQuery, signal: AbortSignal): Promise<{ tty: boolean; stream: Readable }> {
    const a = this.manager();
    const target = kind === 'service' ? await objects.findService(a.store, ref) : await objects.find(a.store, 'tasks', ref, () => '', 'task');
    const tty = Boolean(kind === 'service' ? target.value.Spec.TaskTemplate.ContainerSpec?.TTY : target.value.Spec.ContainerSpec?.TTY);
    const stream = mergeLogs({
      self: a.state.nodeId,
      tls: { ca: a.certs.ca, cert: a.certs.cert, key: a.certs.key },
      tasks: async () => (kind === 'service'
        ? (await a.store.list<any>('tasks')).filter((t) => t.value.ServiceID === target.id)
        : [await a.store.get<any>('tasks', target.id)].filter((t): t is Obj<any> => Boolean(t))),
      nodes: async () => {
        const [nodes, alive] = await Promise.all([a.store.list<any>('nodes'), a.store.list('alive')]);
        return { alive: new Set(alive.map((x) => x.id)), addr: new Map(nodes.map((n) => [n.id, `${n.value.Addr}:${n.value.Port ?? 2377}`])) };
      },
      local: (taskId, lq, sig) => nodeTaskLogs(this.engine.containers as unknown as ContainerService, taskId, lq, sig),
    }, q, tty, signal);
    return { tty, stream };
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

