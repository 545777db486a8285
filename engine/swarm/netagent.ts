/**
 * Swarm networking on one node, kept from the store by the agent's passes:
 *
 * - the overlays this node needs (those of its live tasks, the ingress network on
 *   every node, attachable ones its containers joined) exist here, the others go once
 *   no container uses them;
 * - each overlay's VXLAN device knows every remote endpoint: the addresses of other
 *   nodes' tasks, attachable containers and ingress addresses, with their node's
 *   address;
 * - the embedded DNS answers service names (VIP, or task addresses in dnsrr mode),
 *   aliases and tasks.NAME;
 * - VIPs: in each container's namespace on an overlay, an nft table DNATs every VIP of
 *   that network to one of the service's running tasks (numgen random; conntrack keeps
 *   a connection on its task);
 * - ingress: a node table DNATs each published port on any local address to a
 *   running task's ingress address, and SNATs it to this node's own ingress address
 *   so the reply comes back through this node.
 */
import { createHash } from 'node:crypto';
import type { NetworkService } from '../networks/service.js';
import type { SwarmNetworking } from '../networks/index.js';
import { run } from '../networks/exec.js';
import { nftApply } from '../networks/nft.js';
import { parseCidr } from '../networks/cidr.js';
import { log } from '../log.js';
import { ConflictError } from '../errors.js';
import { type SwarmNetwork, allocateIp, findNetwork, listIpam, localRecord, releaseIp, subnetOf, usedOn } from './netalloc.js';
import { isTerminal } from './spec.js';
import type { Obj, Store } from './store.js';

export interface NetAgentDeps {
  nodeId: string;
  addr: string;
  store: Store;
  networks: NetworkService;
  /** The node's nft table for ingress (one per daemon, like the network service's). */
  table: string;
}

interface Backend { ip: string; port?: number }

const PIN_MS = 30_000;

export class NetAgent implements SwarmNetworking {
  /** network id -> name -> addresses. */
  private names = new Map<string, Map<string, string[]>>();
  private readonly applied = new Map<string, string>();
  private port = 4789;
  /** Attachable overlays made for a container being attached: kept a while before it has its endpoint. */
  private readonly pinned = new Map<string, number>();

  constructor(private readonly d: NetAgentDeps) {}

  async sync(tasks: Obj<any>[]): Promise<void> {
    const [nets, ipam, nodes, services] = await Promise.all([
      this.d.store.list<SwarmNetwork>('networks'), listIpam(this.d.store), this.d.store.list<any>('nodes'), this.d.store.list<any>('services'),
    ]);
    this.port = nets.find((n) => n.value.DataPathPort)?.value.DataPathPort ?? 4789;
    const byId = new Map(nets.map((n) => [n.id, n]));
    const nodeAddr = new Map(nodes.map((n) => [n.id, n.value.Addr as string]));
    const live = tasks.filter((t) => t.value.NodeID && t.value.DesiredState === 'running' && !isTerminal(t.value.Status.State));
    const netsOf = (t: Obj<any>) => (t.value.NetworksAttachments ?? []).map((a: any) => a.Network.ID as string);
    const wanted = new Set<string>(live.filter((t) => t.value.NodeID === this.d.nodeId).flatMap(netsOf));
    const ingress = nets.find((n) => n.value.Spec.Ingress);
    if (ingress) wanted.add(ingress.id);

    // an overlay no task here needs goes once no container here uses it (dropOverlay keeps it till then)
    const now = Date.now();
    for (const rec of this.d.networks.overlays()) {
      const pinned = (this.pinned.get(rec.Id) ?? 0) > now && byId.has(rec.Id);
      if (!wanted.has(rec.Id) && !pinned) await this.d.networks.dropOverlay(rec.Id);
    }
    for (const id of wanted) {
      const n = byId.get(id);
      if (n) await this.d.networks.ensureOverlay(localRecord(n, this.d.addr, this.port));
    }
    const local = new Set(this.d.networks.overlays().map((r) => r.Id));

    // remote endpoints, per network
    const peers = new Map<string, Array<{ ip: string; node: string }>>();
    const add = (netId: string, ip: string, node: string) => {
      if (!local.has(netId) || node === this.d.nodeId || !nodeAddr.get(node)) return;
      peers.set(netId, [...(peers.get(netId) ?? []), { ip, node: nodeAddr.get(node)! }]);
    };
    for (const t of live) for (const a of t.value.NetworksAttachments ?? []) add(a.Network.ID, a.Addresses[0].split('/')[0], t.value.NodeID);
    for (const e of ipam) {
      const [kind, node] = e.owner.split(':');
      if (kind === 'node' || kind === 'ctr') add(e.netId, e.ip, node);
    }
    for (const id of local) await this.d.networks.overlayPeers(id, peers.get(id) ?? []);

    // names and backends from running tasks
    const running = live.filter((t) => t.value.Status.State === 'running');
    const names = new Map<string, Map<string, string[]>>();
    const vipRules = new Map<string, Array<{ vip: string; backends: string[] }>>();
    for (const s of services) {
      const spec = s.value.Spec;
      const own = running.filter((t) => t.value.ServiceID === s.id);
      for (const netId of new Set(own.flatMap(netsOf).concat((s.value.Endpoint?.VirtualIPs ?? []).map((v: any) => v.NetworkID)))) {
        const ips = own.flatMap((t) => (t.value.NetworksAttachments ?? []).filter((a: any) => a.Network.ID === netId).map((a: any) => a.Addresses[0].split('/')[0]));
        const vip = (s.value.Endpoint?.VirtualIPs ?? []).find((v: any) => v.NetworkID === netId)?.Addr.split('/')[0];
        const m = names.get(netId) ?? new Map<string, string[]>();
        names.set(netId, m);
        const aliases = (spec.TaskTemplate.Networks ?? []).find((n: any) => n.Target === netId)?.Aliases ?? [];
        for (const name of [spec.Name, ...aliases]) m.set(name.toLowerCase(), vip ? [vip] : ips);
        m.set(`tasks.${spec.Name.toLowerCase()}`, ips);
        // no task running: no rule (nat chains cannot reject)
        if (vip && ips.length) vipRules.set(netId, [...(vipRules.get(netId) ?? []), { vip, backends: ips }]);
      }
    }
    this.names = names;

    // VIP tables in the namespaces of this node's containers on overlays
    const byNetns = new Map<string, string[]>();
    for (const ep of this.d.networks.overlayEndpoints()) {
      byNetns.set(ep.netnsPath, [...(byNetns.get(ep.netnsPath) ?? []), ...(vipRules.get(ep.networkId) ?? []).map((r) => vipRule(r.vip, r.backends.map((ip) => ({ ip }))))]);
    }
    for (const key of [...this.applied.keys()]) if (key.startsWith('/') && !byNetns.has(key)) this.applied.delete(key);
    for (const [netns, rules] of byNetns) {
      const script = table('berth_vip', [chain('output', 'type nat hook output priority -100; policy accept;', rules)]);
      await this.apply(netns, script, () => run('nsenter', [`--net=${netns}`, 'nft', '-f', '-'], script).then(() => undefined));
    }

    await this.syncIngress(ingress, ipam, services, running);
  }

  private async syncIngress(ingress: Obj<SwarmNetwork> | undefined, ipam: Awaited<ReturnType<typeof listIpam>>, services: Obj<any>[], running: Obj<any>[]): Promise<void> {
    const bridge = ingress && this.d.networks.bridgeOf(ingress.id);
    if (!ingress || !bridge) return;
    let mine = ipam.find((e) => e.netId === ingress.id && e.owner === `node:${this.d.nodeId}`)?.ip;
    if (!mine) mine = await allocateIp(this.d.store, ingress.value, `node:${this.d.nodeId}`, usedOn(ipam, ingress.id));
    const prefix = parseCidr(subnetOf(ingress.value)).prefix;
    await this.apply('ingress-addr', mine, () => this.d.networks.overlayAddresses(ingress.id, [`${mine}/${prefix}`]));
    const dnat: string[] = [];
    for (const s of services) {
      const own = running.filter((t) => t.value.ServiceID === s.id);
      const ips = own.flatMap((t) => (t.value.NetworksAttachments ?? []).filter((a: any) => a.Network.ID === ingress.id).map((a: any) => a.Addresses[0].split('/')[0]));
      for (const p of s.value.Endpoint?.Ports ?? []) {
        if (p.PublishMode !== 'ingress' || !p.PublishedPort || !ips.length) continue;
        dnat.push(portRule(p.Protocol, p.PublishedPort, ips.map((ip: string) => ({ ip, port: p.TargetPort }))));
      }
    }
    const script = table(this.d.table, [
      chain('ports', '', dnat),
      chain('prerouting', 'type nat hook prerouting priority dstnat; policy accept;', ['fib daddr type local jump ports']),
      chain('output', 'type nat hook output priority -100; policy accept;', ['ip daddr != 127.0.0.0/8 fib daddr type local jump ports']),
      chain('postrouting', 'type nat hook postrouting priority srcnat; policy accept;', [`oifname ${JSON.stringify(bridge)} ct status dnat ip saddr != ${subnetOf(ingress.value)} snat to ${mine}`]),
    ]);
    await this.apply('ingress', script, () => nftApply(script));
  }

  private async apply(key: string, content: string, fn: () => Promise<void>): Promise<void> {
    const digest = createHash('sha256').update(content).digest('hex');
    if (this.applied.get(key) === digest) return;
    try {
      await fn();
      this.applied.set(key, digest);
    } catch (err) {
      log.warn(`swarm networking: ${key}: ${(err as Error).message}`);
    }
  }

  /** Leaving the swarm (or stopping): the ingress table and the overlays without containers. */
  async close(removeAll: boolean): Promise<void> {
    if (!removeAll) return;
    await nftApply(`table ip ${this.d.table} {}\ndelete table ip ${this.d.table}\n`).catch(() => undefined);
    for (const rec of this.d.networks.overlays()) await this.d.networks.dropOverlay(rec.Id).catch(() => undefined);
  }

  // ---- SwarmNetworking: what the network service asks ----

  async attachable(ref: string): Promise<boolean> {
    let n: Obj<SwarmNetwork>;
    try {
      n = await findNetwork(this.d.store, ref);
    } catch {
      return false;
    }
    if (!n.value.Spec.Attachable) return false;
    this.pinned.set(n.id, Date.now() + PIN_MS);
    await this.d.networks.ensureOverlay(localRecord(n, this.d.addr, this.port));
    return true;
  }

  async allocate(networkId: string, containerId: string): Promise<string> {
    const n = await this.d.store.get<SwarmNetwork>('networks', networkId);
    if (!n) throw new ConflictError(`swarm network ${networkId} is gone`);
    const ipam = await listIpam(this.d.store);
    return allocateIp(this.d.store, n.value, `ctr:${this.d.nodeId}:${containerId.slice(0, 12)}`, usedOn(ipam, networkId));
  }

  async release(networkId: string, ip: string): Promise<void> {
    await releaseIp(this.d.store, networkId, ip);
  }

  resolve(networkId: string, name: string): string[] | null {
    return this.names.get(networkId)?.get(name) ?? null;
  }
}


function table(name: string, chains: string[]): string {
  return [`table ip ${name} {}`, `delete table ip ${name}`, `table ip ${name} {`, ...chains, '}', ''].join('\n');
}

function chain(name: string, hook: string, rules: string[]): string {
  return [`  chain ${name} {`, ...(hook ? [`    ${hook}`] : []), ...rules.map((r) => `    ${r}`), '  }'].join('\n');
}

function spread(backends: Backend[]): string {
  if (backends.length === 1) return backends[0].ip;
  return `numgen random mod ${backends.length} map { ${backends.map((b, i) => `${i} : ${b.ip}`).join(', ')} }`;
}

function vipRule(vip: string, backends: Backend[]): string {
  return `ip daddr ${vip} dnat to ${spread(backends)}`;
}

function portRule(proto: string, port: number, backends: Backend[]): string {
  // every task listens on the same target port
  return `${proto} dport ${port} dnat to ${spread(backends)}${backends.length > 1 ? ' : ' : ':'}${backends[0].port}`;
}
