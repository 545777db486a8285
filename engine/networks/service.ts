import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { ConflictError, ForbiddenError, InvalidArgumentError, NotFoundError } from '../errors.js';
import type { EventBus } from '../events.js';
import { formatIp, parseCidr } from './cidr.js';
import { type DnsOverrides, type HostsEntry, hostResolvConf, parseExtraHost, renderHosts, renderResolvConf, upstreamServers, validateDns } from './etcfiles.js';
import { type CreateRequest, type Network, NetworkRegistry, newId } from './registry.js';
import {
  type AttachRequest, type AttachResult, DRIVER_OPT_BRIDGE, DRIVER_OPT_DEFAULT_BRIDGE, type EndpointRecord, type EndpointRequest,
  type NetworkRecord, type Networking, type SandboxRecord, type SwarmNetworking,
} from './index.js';
import { type OverlayPeer, ensureVxlan, syncPeers, vxlanName } from './overlay.js';
import { DEFAULT_POOLS, parsePoolSpec, pickSubnet } from './ipam.js';
import { run } from './exec.js';
import { completeConfig6, defaultPool6, parsePool6Spec, pickSubnet6 } from './ipam6.js';
import { isV6, parseCidr6 } from './cidr6.js';
import { type EndpointLink, NetnsPool, addLinks, createSandbox, deleteLink, destroySandbox, ensureBridge, hostMtu, hostRoutes, hostRoutes6, removeLinks, setDnsRedirect } from './links.js';
import { type BridgeRules, deleteScript, nftApply, renderRuleset, tableName } from './nft.js';
import { forwardScript, readForwardChain } from './hostforward.js';
import { type PortRequest, portRequests, portsMap } from './ports.js';
import { type PortProxy, openProxy } from './proxy.js';
import { EmbeddedResolver } from './resolver.js';
import { NetworkStore } from './store.js';
import { matchFilters, matchPruneFilters } from './filters.js';
import { baseRecord, bipConfig, defaultBridgeName, dnsNames, enableForwarding, macFromIp, oneOf } from './defaults.js';
import { networkSettings } from './settings.js';

export interface NetworkServiceOptions {
  dataRoot: string;
  execRoot: string;
  events: EventBus;
  /** Default bridge interface (--bridge); see defaultBridgeName when unset. */
  bridge?: string;
  /** Default bridge address with prefix (--bip), e.g. 10.20.0.1/24. */
  bip?: string;
  /** --default-address-pools entries: "base=CIDR,size=N". */
  defaultAddressPools?: string[];
  /** --mtu: bridge networks' MTU instead of the host's. */
  mtu?: number;
  /** --ipv6 / --fixed-cidr-v6: IPv6 on the default bridge. */
  ipv6?: boolean;
  fixedCidrV6?: string;
}

const MAC_RE = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i;

/** Networks, sandboxes and their kernel state; engine.networks and engine.networking. */
export class NetworkService implements Networking {
  private readonly sandboxes = new Map<string, SandboxRecord>();
  private readonly proxies = new Map<string, PortProxy[]>();
  private readonly resolvers = new Map<string, EmbeddedResolver>();
  private readonly table: string;
  private readonly defaultBridge: string;
  private readonly pools: Array<{ base: string; size: number }>;
  private readonly pools6: Array<{ base: string; size: number }>;
  private rulesQueue: Promise<void> = Promise.resolve();
  private readonly pool: NetnsPool;
  private swarm?: SwarmNetworking;

  private constructor(private readonly opts: NetworkServiceOptions, private readonly store: NetworkStore, private readonly registry: NetworkRegistry) {
    this.defaultBridge = opts.bridge || defaultBridgeName(opts.dataRoot);
    this.table = tableName(this.defaultBridge);
    const specs = opts.defaultAddressPools ?? [];
    const v4 = specs.filter((p) => !isV6(p));
    const v6 = specs.filter((p) => isV6(p));
    this.pools = v4.length ? v4.map(parsePoolSpec) : DEFAULT_POOLS;
    this.pools6 = v6.length ? v6.map(parsePool6Spec) : [defaultPool6(resolve(opts.dataRoot))];
    this.pool = new NetnsPool(join(opts.execRoot, 'netns'));
  }

  static async open(opts: NetworkServiceOptions): Promise<NetworkService> {
    // sandboxes live as long as their namespaces: runtime state, beside them in exec-root
    const store = new NetworkStore(join(opts.dataRoot, 'networks'), join(opts.execRoot, 'sandboxes'));
    const svc = new NetworkService(opts, store, new NetworkRegistry(store, opts.mtu ?? await hostMtu()));
    await svc.init();
    return svc;
  }

  private netnsDir(): string {
    return join(this.opts.execRoot, 'netns');
  }

  private async init(): Promise<void> {
    if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(this.defaultBridge)) throw new InvalidArgumentError(`--bridge ${this.defaultBridge}: an interface name of up to 15 letters, digits, "_", "." or "-"`);
    await fs.mkdir(this.netnsDir(), { recursive: true });
    for (const rec of await this.store.loadNetworks()) this.registry.load(rec);
    for (const sb of await this.store.loadSandboxes()) this.sandboxes.set(sb.containerId, sb);
    await NetnsPool.sweep(this.netnsDir(), new Set([...this.sandboxes.values()].flatMap((s) => (s.netnsPath ? [s.netnsPath] : []))));
    await this.ensurePredefined();
    for (const n of this.registry.bridges()) await this.bringUp(n);
    await enableForwarding();
    for (const sb of this.sandboxes.values()) {
      for (const ep of sb.endpoints) {
        const n = this.registry.tryFind(ep.networkId);
        n?.pool?.reserve(ep.ip);
        if (ep.ip6) n?.pool6?.reserve(ep.ip6);
      }
    }
    await this.syncRules(true);
    const def = this.registry.all().find((n) => n.isDefault)!;
    this.pool.joinBridge(def.bridge!, def.mtu);
    void this.pool.refill();
  }

  /** The predefined bridge, host and none networks; the default bridge follows --bridge/--bip. */
  private async ensurePredefined(): Promise<void> {
    const existing = this.registry.all().find((n) => n.isDefault);
    const wanted = this.opts.bip ? bipConfig(this.opts.bip) : undefined;
    const wanted6 = this.opts.fixedCidrV6 ? completeConfig6({ Subnet: this.opts.fixedCidrV6 }) : undefined;
    const sameV6 = (n: Network) => n.record.EnableIPv6 === Boolean(this.opts.ipv6) && (!wanted6 || n.pool6?.config.Subnet === wanted6.Subnet);
    if (existing && existing.bridge === this.defaultBridge && sameV6(existing) && (!wanted || existing.record.IPAM.Config[0].Subnet === wanted.Subnet && existing.record.IPAM.Config[0].Gateway === wanted.Gateway)) {
      // keep it
    } else {
      if (existing) {
        if ([...this.sandboxes.values()].some((s) => s.endpoints.some((e) => e.networkId === existing.record.Id))) {
          throw new ConflictError('the default bridge changed (--bridge/--bip/--ipv6) while containers still use the old one: stop them first');
        }
        await deleteLink(existing.bridge!);
        await this.registry.remove(existing);
      }
      const taken = (await hostRoutes()).filter((r) => r.dev !== this.defaultBridge).map((r) => parseCidr(r.dst));
      const config = wanted ?? pickSubnet(this.pools, [...taken, ...this.registry.bridges().map((n) => n.pool!.subnet)]);
      const config6 = !this.opts.ipv6 ? undefined : wanted6 ?? pickSubnet6(this.pools6, [
        ...(await hostRoutes6()).filter((r) => r.dev !== this.defaultBridge).map((r) => parseCidr6(r.dst)),
        ...this.registry.bridges().flatMap((n) => (n.pool6 ? [n.pool6.subnet] : [])),
      ]);
      await this.registry.add({
        ...baseRecord('bridge', 'bridge'),
        EnableIPv6: Boolean(config6),
        IPAM: { Driver: 'default', Options: null, Config: config6 ? [config, config6] : [config] },
        Options: {
          [DRIVER_OPT_DEFAULT_BRIDGE]: 'true',
          [DRIVER_OPT_BRIDGE]: this.defaultBridge,
          'com.docker.network.bridge.enable_icc': 'true',
          'com.docker.network.bridge.enable_ip_masquerade': 'true',
          'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
          'com.docker.network.driver.mtu': String(this.opts.mtu ?? await hostMtu()),
        },
      });
    }
    if (!this.registry.tryFind('host')) await this.registry.add({ ...baseRecord('host', 'host'), IPAM: { Driver: 'default', Options: null, Config: [] } });
    if (!this.registry.tryFind('none')) await this.registry.add({ ...baseRecord('none', 'null'), IPAM: { Driver: 'default', Options: null, Config: [] } });
  }

  private async bringUp(n: Network): Promise<void> {
    const cfg = n.record.IPAM.Config[0];
    const v6 = n.pool6?.config;
    await ensureBridge({ ifname: n.bridge!, gatewayCidr: `${cfg.Gateway}/${parseCidr(cfg.Subnet).prefix}`, mtu: n.mtu, ...(v6 ? { gateway6Cidr: `${v6.Gateway}/${n.pool6!.subnet.prefix}` } : {}) });
    const o = n.record.overlay;
    if (o) await ensureVxlan({ bridge: n.bridge!, vxlan: vxlanName(n.record.Id), vni: o.vni, port: o.port, local: o.local, mtu: n.mtu });
    if (!n.isDefault && !this.resolvers.has(n.record.Id)) {
      this.resolvers.set(n.record.Id, await EmbeddedResolver.start(cfg.Gateway, {
        resolve: (clientIp, name) => this.resolveName(n, clientIp, name),
        upstreams: (clientIp) => this.upstreamsFor(n, clientIp),
      }));
    }
  }

  // ---- the networks API ----

  async create(req: CreateRequest): Promise<{ Id: string; Warning: string }> {
    const taken = (await hostRoutes()).filter((r) => !this.registry.bridges().some((n) => n.bridge === r.dev)).map((r) => parseCidr(r.dst));
    const taken6 = req.EnableIPv6 ? (await hostRoutes6()).filter((r) => !this.registry.bridges().some((n) => n.bridge === r.dev)).map((r) => parseCidr6(r.dst)) : [];
    const record = this.registry.plan(req, taken, this.pools, { taken: taken6, pools: this.pools6 });
    const n = await this.registry.add(record);
    try {
      await this.bringUp(n);
      await this.syncRules(true);
    } catch (err) {
      await this.teardownNetwork(n).catch(() => undefined);
      throw err;
    }
    this.emit(n, 'create');
    return { Id: record.Id, Warning: '' };
  }

  list(filters: Record<string, string[]> = {}): Array<Record<string, unknown>> {
    return this.registry.all().filter((n) => matchFilters(n, filters, this.endpointsOf(n).length)).map((n) => ({ ...apiRecord(n.record), Containers: {} }));
  }

  inspect(idOrName: string): Record<string, unknown> {
    const n = this.registry.find(idOrName);
    const containers: Record<string, unknown> = {};
    for (const { sb, ep } of this.endpointsOf(n)) {
      containers[sb.containerId] = { Name: sb.name, EndpointID: ep.endpointId, MacAddress: ep.mac, IPv4Address: `${ep.ip}/${ep.prefix}`, IPv6Address: ep.ip6 ? `${ep.ip6}/${ep.prefix6}` : '' };
    }
    for (const sb of this.sandboxes.values()) {
      if ((n.record.Driver === 'host' && sb.mode === 'host') || (n.record.Driver === 'null' && sb.mode === 'none')) {
        containers[sb.containerId] = { Name: sb.name, EndpointID: sb.sandboxId, MacAddress: '', IPv4Address: '', IPv6Address: '' };
      }
    }
    return { ...apiRecord(n.record), Containers: containers };
  }

  async remove(idOrName: string): Promise<void> {
    const n = this.registry.find(idOrName);
    if (n.record.Scope === 'swarm') throw new ForbiddenError(`network ${n.record.Name} is a swarm network: remove it on a manager`);
    if (n.isDefault || n.record.Driver !== 'bridge') throw new ForbiddenError(`${n.record.Name} is a pre-defined network and cannot be removed`);
    if (this.endpointsOf(n).length) throw new ConflictError(`error while removing network: network ${n.record.Name} id ${n.record.Id} has active endpoints`);
    await this.teardownNetwork(n);
    await this.syncRules(true);
    this.emit(n, 'destroy');
  }

  async prune(filters: Record<string, string[]> = {}): Promise<{ NetworksDeleted: string[] }> {
    const deleted: string[] = [];
    for (const n of this.registry.bridges()) {
      if (n.isDefault || n.record.Scope === 'swarm' || this.endpointsOf(n).length || !matchPruneFilters(n, filters)) continue;
      await this.teardownNetwork(n);
      this.emit(n, 'destroy');
      deleted.push(n.record.Name);
    }
    if (deleted.length) await this.syncRules(true);
    return { NetworksDeleted: deleted };
  }

  async connect(idOrName: string, container: string, req: EndpointRequest = {}): Promise<void> {
    const n = this.registry.find(idOrName);
    const sb = this.findSandbox(container);
    if ((n.record.Driver !== 'bridge' && n.record.Driver !== 'overlay') || sb.mode !== 'bridge') {
      throw new ForbiddenError(`container ${sb.name} cannot be connected to network ${n.record.Name}: only bridge and overlay networks connect to containers in bridge mode`);
    }
    if (sb.endpoints.some((e) => e.networkId === n.record.Id)) throw new ForbiddenError(`endpoint with name ${sb.name} already exists in network ${n.record.Name}`);
    const used = new Set(sb.endpoints.map((e) => e.ifname));
    let idx = 0;
    while (used.has(`eth${idx}`)) idx++;
    const hasRoute = sb.endpoints.some((e) => !this.registry.tryFind(e.networkId)?.record.Internal);
    const ep = this.allocateEndpoint(n, `eth${idx}`, await this.swarmAddress(n, sb.containerId, req), sb.name);
    ep.swarmOwned = n.record.Driver === 'overlay' && !req.IPAMConfig?.IPv4Address;
    try {
      const dnsBefore = this.dnsTarget(sb);
      sb.endpoints.push(ep);
      const dnsAfter = this.dnsTarget(sb);
      await addLinks(sb.netnsPath!, [this.linkOf(n, ep, !hasRoute && !n.record.Internal)], dnsBefore ? null : dnsAfter);
    } catch (err) {
      sb.endpoints = sb.endpoints.filter((e) => e !== ep);
      releaseAddresses(n, ep);
      await this.releaseSwarm(n, ep);
      throw err;
    }
    await this.store.saveSandbox(sb);
    this.emit(n, 'connect', sb.containerId);
  }

  async disconnect(idOrName: string, container: string, force = false): Promise<void> {
    const n = this.registry.find(idOrName);
    const sb = this.sandboxFor(container);
    const ep = sb?.endpoints.find((e) => e.networkId === n.record.Id);
    if (!sb || !ep) {
      if (force) return;
      throw new NotFoundError(`container ${container} is not connected to network ${n.record.Name}`);
    }
    await removeLinks(sb.netnsPath!, [ep.ifname]);
    sb.endpoints = sb.endpoints.filter((e) => e !== ep);
    releaseAddresses(n, ep);
    await this.releaseSwarm(n, ep);
    await this.store.saveSandbox(sb);
    this.emit(n, 'disconnect', sb.containerId);
  }

  // ---- the containers contract ----

  async attach(req: AttachRequest): Promise<AttachResult> {
    const existing = this.sandboxes.get(req.id);
    if (existing) return this.result(existing);
    const hc = req.hostConfig ?? {};
    const mode = !hc.NetworkMode || hc.NetworkMode === 'default' ? 'bridge' : hc.NetworkMode;
    const dns: DnsOverrides = { dns: hc.Dns ?? [], dnsSearch: hc.DnsSearch ?? [], dnsOptions: hc.DnsOptions ?? [] };
    validateDns(dns.dns);
    const base: SandboxRecord = {
      containerId: req.id, name: req.name.replace(/^\//, ''), hostname: req.hostname, domainname: req.domainname ?? '',
      mode: 'bridge', netnsPath: null, sandboxId: newId(), sharedWith: null, endpoints: [], ports: [],
      exposed: req.config?.ExposedPorts ?? {}, dns: dns.dns, dnsSearch: dns.dnsSearch, dnsOptions: dns.dnsOptions,
      extraHosts: hc.ExtraHosts ?? [], links: hc.Links ?? [],
    };
    for (const h of base.extraHosts) parseExtraHost(h, this.defaultGateway());
    if (mode === 'host') return this.commit({ ...base, mode: 'host' });
    if (mode.startsWith('container:')) {
      const target = this.findSandbox(mode.slice('container:'.length));
      return this.commit({ ...base, mode: 'container', netnsPath: target.netnsPath, sharedWith: target.containerId });
    }
    const path = join(this.netnsDir(), req.id);
    if (mode === 'none') {
      const { netnsPath } = await createSandbox(path, [], null, this.pool);
      return this.commit({ ...base, mode: 'none', netnsPath });
    }
    return this.attachBridge(base, mode, path, req);
  }

  private async attachBridge(sb: SandboxRecord, mode: string, path: string, req: AttachRequest): Promise<AttachResult> {
    for (const ref of [mode, ...Object.keys(req.networkingConfig?.EndpointsConfig ?? {})]) {
      if (ref !== 'default' && !this.registry.tryFind(ref)) await this.swarm?.attachable(ref);
    }
    const primary = this.registry.find(mode);
    if (primary.record.Driver !== 'bridge' && primary.record.Driver !== 'overlay') throw new InvalidArgumentError(`network ${mode} cannot be used with other networks: use --network ${primary.record.Name === 'host' ? 'host' : 'none'}`);
    const configs = req.networkingConfig?.EndpointsConfig ?? {};
    const wanted: Array<[Network, EndpointRequest]> = [[primary, configs[mode] ?? configs[primary.record.Name] ?? configs[primary.record.Id] ?? (primary.isDefault ? configs.default : undefined) ?? {}]];
    for (const [key, cfg] of Object.entries(configs)) {
      const n = key === 'default' ? primary : this.registry.find(key); // the CLI's name for the default mode
      if (!wanted.some(([w]) => w === n)) wanted.push([n, cfg ?? {}]);
    }
    if (req.config?.MacAddress && !wanted[0][1].MacAddress) wanted[0][1] = { ...wanted[0][1], MacAddress: req.config.MacAddress };
    const requests = portRequests(sb.exposed, req.hostConfig?.PortBindings, Boolean(req.hostConfig?.PublishAllPorts));
    const proxies: PortProxy[] = [];
    const allocated: Array<[Network, EndpointRecord]> = [];
    try {
      for (const [n, cfg] of wanted) {
        if (n.record.Driver !== 'bridge' && n.record.Driver !== 'overlay') throw new InvalidArgumentError(`container cannot be connected to ${n.record.Name} and other networks`);
        const ep = this.allocateEndpoint(n, `eth${allocated.length}`, await this.swarmAddress(n, sb.containerId, cfg), sb.name);
        ep.swarmOwned = n.record.Driver === 'overlay' && !cfg.IPAMConfig?.IPv4Address;
        allocated.push([n, ep]);
      }
      sb.endpoints = allocated.map(([, ep]) => ep);
      const { ip, ip6 } = sb.endpoints[0];
      for (const r of requests) {
        const proxy = await openProxy(r, ip);
        proxies.push(proxy);
        sb.ports.push({ proto: r.proto, containerPort: r.containerPort, hostIp: r.hostIp, hostPort: proxy.hostPort, containerIp: ip });
        if (r.hostIp !== '0.0.0.0') continue;
        // dockerd publishes on "::" too, to the container's IPv6 address, else its IPv4 one
        // (IPv6 is not DNAT'ed: this proxy serves every IPv6 address of the host). Without
        // IPv6 of its own, a container does without it when the host can't give that port.
        const v6 = await openProxy({ ...r, hostIp: '::', hostPortMin: proxy.hostPort, hostPortMax: proxy.hostPort }, ip6 ?? ip).catch((err) => {
          if (ip6) throw err;
          return null;
        });
        if (!v6) continue;
        proxies.push(v6);
        sb.ports.push({ proto: r.proto, containerPort: r.containerPort, hostIp: '::', hostPort: proxy.hostPort, containerIp: ip6 ?? ip });
      }
      let routed = false;
      const links = allocated.map(([n, ep]) => {
        const withRoute = !routed && !n.record.Internal;
        routed ||= withRoute;
        return this.linkOf(n, ep, withRoute);
      });
      const made = await createSandbox(path, links, this.dnsTarget(sb), this.pool);
      sb.netnsPath = made.netnsPath;
      made.hostVeths.forEach((v, i) => { sb.endpoints[i].hostVeth = v; });
      this.proxies.set(sb.containerId, proxies);
      const result = await this.commit(sb);
      if (sb.ports.length) await this.syncRules();
      for (const [n] of allocated) this.emit(n, 'connect', sb.containerId);
      return result;
    } catch (err) {
      this.sandboxes.delete(sb.containerId);
      this.proxies.delete(sb.containerId);
      await Promise.all(proxies.map((p) => p.close()));
      for (const [n, ep] of allocated) {
        releaseAddresses(n, ep);
        await this.releaseSwarm(n, ep);
      }
      if (sb.netnsPath) await destroySandbox(sb.netnsPath).catch(() => undefined);
      await this.store.removeSandbox(sb.containerId).catch(() => undefined);
      throw err;
    }
  }

  async detach(containerId: string): Promise<void> {
    const sb = this.sandboxes.get(containerId);
    if (!sb) return;
    this.sandboxes.delete(containerId);
    const proxies = this.proxies.get(containerId) ?? [];
    this.proxies.delete(containerId);
    await Promise.all(proxies.map((p) => p.close()));
    for (const ep of sb.endpoints) {
      const n = this.registry.tryFind(ep.networkId);
      releaseAddresses(n, ep);
      if (n) await this.releaseSwarm(n, ep);
    }
    if ((sb.mode === 'bridge' || sb.mode === 'none') && sb.netnsPath) await destroySandbox(sb.netnsPath);
    if (sb.ports.length) await this.syncRules();
    await this.store.removeSandbox(containerId);
    for (const ep of sb.endpoints) {
      const n = this.registry.tryFind(ep.networkId);
      if (n) this.emit(n, 'disconnect', containerId);
    }
  }

  /** After an engine restart, for a container that kept running: proxies and DNS redirect come back. */
  async restore(containerId: string): Promise<AttachResult> {
    const sb = this.sandboxes.get(containerId);
    if (!sb) throw new NotFoundError(`no network state for container ${containerId}: it was not attached`);
    if (!this.proxies.has(containerId)) {
      const proxies: PortProxy[] = [];
      for (const p of sb.ports) {
        proxies.push(await reopenProxy({ proto: p.proto, containerPort: p.containerPort, hostIp: p.hostIp, hostPortMin: p.hostPort, hostPortMax: p.hostPort }, p.containerIp));
      }
      this.proxies.set(containerId, proxies);
      const dns = this.dnsTarget(sb);
      if (dns && sb.netnsPath) await setDnsRedirect(sb.netnsPath, dns);
    }
    return this.result(sb);
  }

  settings(containerId: string): Record<string, unknown> | null {
    const sb = this.sandboxes.get(containerId);
    return sb ? this.settingsOf(sb) : null;
  }

  /** Live restore: with containers still attached, the bridges, rules and namespaces stay. */
  async shutdown(): Promise<void> {
    await this.pool.close();
    await Promise.all([...this.proxies.values()].flat().map((p) => p.close()));
    this.proxies.clear();
    await Promise.all([...this.resolvers.values()].map((r) => r.close()));
    this.resolvers.clear();
    if ([...this.sandboxes.values()].some((s) => s.mode === 'bridge')) return;
    await this.rulesQueue;
    await nftApply(deleteScript(this.table));
    await this.syncHostForward([]);
    for (const n of this.registry.bridges()) {
      if (n.record.overlay) await deleteLink(vxlanName(n.record.Id));
      await deleteLink(n.bridge!);
    }
  }

  // ---- what swarm mode drives (engine/swarm/netagent.ts) ----

  /** Lends swarm mode's address allocation and names to the overlays of this node. */
  useSwarm(swarm: SwarmNetworking | undefined): void {
    this.swarm = swarm;
  }

  /** Makes (or keeps) a swarm overlay on this node: its bridge, VXLAN port and resolver. */
  async ensureOverlay(record: NetworkRecord): Promise<void> {
    const have = this.registry.tryFind(record.Id);
    if (have && JSON.stringify(have.record.overlay) === JSON.stringify(record.overlay)) return;
    const n = have ?? await this.registry.add(record);
    if (have) {
      have.record.overlay = record.overlay;
      await this.registry.add(have.record);
    }
    try {
      await this.bringUp(n);
      await this.syncRules(true);
    } catch (err) {
      if (!have) await this.teardownNetwork(n).catch(() => undefined);
      throw err;
    }
    if (!have) this.emit(n, 'create');
  }

  /** Removes a swarm overlay from this node once no container here uses it; false while one does. */
  async dropOverlay(id: string): Promise<boolean> {
    const n = this.registry.tryFind(id);
    if (!n) return true;
    if (this.endpointsOf(n).length) return false;
    await this.teardownNetwork(n);
    await this.syncRules(true);
    this.emit(n, 'destroy');
    return true;
  }

  /** An attachable swarm overlay not yet on this node becomes usable here (network connect). */
  async attachSwarmNetwork(ref: string): Promise<void> {
    if (!this.registry.tryFind(ref)) await this.swarm?.attachable(ref);
  }

  overlays(): NetworkRecord[] {
    return this.registry.all().filter((n) => n.record.Driver === 'overlay').map((n) => n.record);
  }

  async overlayPeers(id: string, peers: OverlayPeer[]): Promise<void> {
    await syncPeers(vxlanName(id), peers);
  }

  /** Extra addresses of this node on an overlay's bridge (the node's ingress address). */
  async overlayAddresses(id: string, cidrs: string[]): Promise<void> {
    const n = this.registry.tryFind(id);
    if (!n) return;
    const cfg = n.record.IPAM.Config[0];
    const keep = new Set([`${cfg.Gateway}/${parseCidr(cfg.Subnet).prefix}`, ...cidrs]);
    const have = (JSON.parse(await run('ip', ['-j', '-4', 'addr', 'show', 'dev', n.bridge!]))[0]?.addr_info ?? []) as Array<{ local: string; prefixlen: number }>;
    const cmds = [
      ...have.map((a) => `${a.local}/${a.prefixlen}`).filter((c) => !keep.has(c)).map((c) => `addr del ${c} dev ${n.bridge}`),
      ...cidrs.filter((c) => !have.some((a) => `${a.local}/${a.prefixlen}` === c)).map((c) => `addr add ${c} dev ${n.bridge}`),
    ];
    if (cmds.length) await run('ip', ['-batch', '-'], cmds.join('\n') + '\n');
  }

  /** The overlay bridge of a network here (for rules that match its interface). */
  bridgeOf(id: string): string | undefined {
    return this.registry.tryFind(id)?.bridge ?? undefined;
  }

  /** Containers' endpoints on overlays: where the swarm's VIP rules go. */
  overlayEndpoints(): Array<{ containerId: string; networkId: string; ip: string; netnsPath: string }> {
    const out = [];
    for (const sb of this.sandboxes.values()) {
      for (const ep of sb.endpoints) {
        if (sb.netnsPath && this.registry.tryFind(ep.networkId)?.record.Driver === 'overlay') out.push({ containerId: sb.containerId, networkId: ep.networkId, ip: ep.ip, netnsPath: sb.netnsPath });
      }
    }
    return out;
  }

  private async swarmAddress(n: Network, containerId: string, cfg: EndpointRequest): Promise<EndpointRequest> {
    if (n.record.Driver !== 'overlay' || cfg.IPAMConfig?.IPv4Address) return cfg;
    if (!this.swarm || !n.record.Attachable) throw new ForbiddenError(`network ${n.record.Name} is not manually attachable: create it with --attachable, or use it from a service`);
    return { ...cfg, IPAMConfig: { ...(cfg.IPAMConfig ?? {}), IPv4Address: await this.swarm.allocate(n.record.Id, containerId) } };
  }

  private async releaseSwarm(n: Network, ep: EndpointRecord): Promise<void> {
    if (ep.swarmOwned) await this.swarm?.release(n.record.Id, ep.ip).catch(() => undefined);
  }

  // ---- internals ----

  private allocateEndpoint(n: Network, ifname: string, cfg: EndpointRequest, name: string): EndpointRecord {
    const pool = n.pool!;
    const wantedIp = cfg.IPAMConfig?.IPv4Address || null;
    if (wantedIp && n.isDefault) throw new InvalidArgumentError('user specified IP address is supported on user defined networks only');
    if (wantedIp) pool.reserve(wantedIp);
    const ip = wantedIp ?? pool.allocate();
    const mac = cfg.MacAddress || macFromIp(ip);
    if (!MAC_RE.test(mac)) {
      pool.release(ip);
      throw new InvalidArgumentError(`invalid MAC address "${mac}": expected six hex pairs like 02:42:ac:11:00:02`);
    }
    const aliases = [...(cfg.Aliases ?? [])];
    if (n.isDefault && aliases.length) {
      pool.release(ip);
      throw new InvalidArgumentError('network-scoped aliases are supported for user-defined networks only');
    }
    const linkLocal = (cfg.IPAMConfig?.LinkLocalIPs ?? []).filter(Boolean);
    const badLinkLocal = linkLocal.find((a) => !isIP(a));
    if (badLinkLocal) {
      pool.release(ip);
      throw new InvalidArgumentError(`invalid link-local IP address: ${badLinkLocal}`);
    }
    let v6: Pick<EndpointRecord, 'ip6' | 'prefix6' | 'gateway6' | 'staticIp6'> = {};
    try {
      v6 = this.allocate6(n, cfg.IPAMConfig?.IPv6Address || null);
    } catch (err) {
      pool.release(ip);
      throw err;
    }
    return {
      ...v6,
      networkId: n.record.Id, endpointId: newId(), ifname, hostVeth: `veth${randomBytes(4).toString('hex').slice(0, 7)}`,
      ip, prefix: pool.subnet.prefix, gateway: formatIp(pool.gateway), mac: mac.toLowerCase(), staticIp: wantedIp,
      aliases, links: cfg.Links ?? [],
      ...(cfg.DriverOpts && Object.keys(cfg.DriverOpts).length ? { driverOpts: cfg.DriverOpts } : {}),
      ...(cfg.IPAMConfig?.LinkLocalIPs?.length ? { linkLocalIps: cfg.IPAMConfig.LinkLocalIPs } : {}),
    };
  }

  /** The endpoint's IPv6 address on a network with IPv6 (`wanted`: --ip6). */
  private allocate6(n: Network, wanted: string | null): Pick<EndpointRecord, 'ip6' | 'prefix6' | 'gateway6' | 'staticIp6'> {
    const pool6 = n.pool6;
    if (!pool6) {
      if (wanted) throw new InvalidArgumentError(`network ${n.record.Name} has no IPv6 for --ip6 ${wanted}: create it with --ipv6`);
      return {};
    }
    if (wanted && n.isDefault) throw new InvalidArgumentError('user specified IP address is supported on user defined networks only');
    if (wanted) pool6.reserve(wanted);
    return { ip6: wanted ?? pool6.allocate(), prefix6: pool6.subnet.prefix, gateway6: pool6.config.Gateway, staticIp6: wanted };
  }

  private linkOf(n: Network, ep: EndpointRecord, withRoute: boolean): EndpointLink {
    return {
      ifname: ep.ifname, hostVeth: ep.hostVeth, bridge: n.bridge!, mac: ep.mac, addressCidr: `${ep.ip}/${ep.prefix}`, gateway: withRoute ? ep.gateway : null, mtu: n.mtu,
      ...(ep.ip6 ? { address6Cidr: `${ep.ip6}/${ep.prefix6}`, gateway6: withRoute ? ep.gateway6 : null } : {}),
      // dockerd puts them on with a /16 (IPv4) or /64 (IPv6) mask
      ...(ep.linkLocalIps?.length ? { linkLocal: ep.linkLocalIps.map((a) => `${a}/${isV6(a) ? 64 : 16}`) } : {}),
    };
  }

  /** The resolver that 127.0.0.11 leads to: that of the sandbox's first user network. */
  private dnsTarget(sb: SandboxRecord): { target: string; port: number } | null {
    for (const ep of sb.endpoints) {
      const r = this.resolvers.get(ep.networkId);
      if (r) return { target: ep.gateway, port: r.port };
    }
    return null;
  }

  private async commit(sb: SandboxRecord): Promise<AttachResult> {
    this.sandboxes.set(sb.containerId, sb);
    await this.store.saveSandbox(sb);
    return this.result(sb);
  }

  private result(sb: SandboxRecord): AttachResult {
    const target = sb.sharedWith ? this.sandboxes.get(sb.sharedWith) : undefined;
    const files = target ?? sb;
    const hostname = sb.hostname + '\n';
    if (sb.mode === 'host' || files.mode === 'host') {
      let hosts: string;
      try { hosts = readFileSync('/etc/hosts', 'utf8'); } catch { hosts = renderHosts([], []); }
      return { netnsPath: null, settings: this.settingsOf(sb), hosts, resolvConf: renderResolvConf(hostResolvConf(), sb, false, true), hostname };
    }
    const embedded = this.dnsTarget(files) !== null;
    const self: HostsEntry[] = [];
    const first = files.endpoints[0];
    if (first && sb.mode !== 'container') {
      const names = sb.domainname ? [`${sb.hostname}.${sb.domainname}`, sb.hostname] : [sb.hostname];
      self.push({ ip: first.ip, names });
      if (first.ip6) self.push({ ip: first.ip6, names });
    }
    return {
      netnsPath: files.netnsPath,
      settings: this.settingsOf(sb),
      hosts: renderHosts(self, [...this.linkEntries(sb), ...sb.extraHosts.map((h) => { const e = parseExtraHost(h, this.defaultGateway()); return { ip: e.ip, names: [e.name] }; })]),
      resolvConf: renderResolvConf(hostResolvConf(), sb, embedded, false),
      hostname,
    };
  }

  /** --link on the default bridge: "/other:/me/alias" becomes "IP alias other". */
  private linkEntries(sb: SandboxRecord): HostsEntry[] {
    const out: HostsEntry[] = [];
    for (const link of sb.links) {
      const [target, alias] = link.split(':');
      const other = this.sandboxFor(target.replace(/^\//, ''));
      const ip = other?.endpoints.find((e) => this.registry.tryFind(e.networkId)?.isDefault)?.ip ?? other?.endpoints[0]?.ip;
      if (!other || !ip) throw new InvalidArgumentError(`could not get container for ${target.replace(/^\//, '')}: link to a running container`);
      const aliasName = alias ? alias.split('/').pop()! : other.name;
      out.push({ ip, names: [...new Set([aliasName, other.hostname, other.name])] });
    }
    return out;
  }

  private settingsOf(sb: SandboxRecord): Record<string, unknown> {
    return networkSettings(sb, (id) => this.registry.tryFind(id), this.registry.tryFind(sb.mode === 'host' ? 'host' : 'none')!, portsMap(sb.exposed, sb.mode === 'bridge' ? sb.ports : []));
  }

  private defaultGateway(): string {
    const d = this.registry.all().find((n) => n.isDefault);
    return d ? d.record.IPAM.Config[0].Gateway : '127.0.0.1';
  }

  private endpointsOf(n: Network): Array<{ sb: SandboxRecord; ep: EndpointRecord }> {
    const out = [];
    for (const sb of this.sandboxes.values()) for (const ep of sb.endpoints) if (ep.networkId === n.record.Id) out.push({ sb, ep });
    return out;
  }

  private sandboxFor(idOrName: string): SandboxRecord | undefined {
    const key = idOrName.replace(/^\//, '');
    const all = [...this.sandboxes.values()];
    return this.sandboxes.get(key) ?? all.find((s) => s.name === key) ?? (key.length >= 1 ? oneOf(all.filter((s) => s.containerId.startsWith(key))) : undefined);
  }

  private findSandbox(idOrName: string): SandboxRecord {
    const sb = this.sandboxFor(idOrName);
    if (!sb) throw new NotFoundError(`container ${idOrName} is not running: start it first`);
    return sb;
  }

  /** Names visible from `clientIp`: containers sharing a user network with it. */
  private resolveName(n: Network, clientIp: string, name: string): string[] | null {
    const local = this.resolveLocal(n, clientIp, name);
    if (local || !this.swarm) return local;
    // swarm names on each overlay the client is on, this one first; the ingress network has none
    const client = this.endpointsOf(n).find(({ ep }) => ep.ip === clientIp)?.sb;
    const ids = [n.record.Id, ...(client?.endpoints.map((e) => e.networkId) ?? [])];
    for (const id of new Set(ids)) {
      const net = this.registry.tryFind(id);
      if (net?.record.Driver !== 'overlay' || net.record.Ingress) continue;
      const found = this.swarm.resolve(id, name);
      if (found) return found;
    }
    return null;
  }

  private resolveLocal(n: Network, clientIp: string, name: string): string[] | null {
    const client = this.endpointsOf(n).find(({ ep }) => ep.ip === clientIp)?.sb;
    // A container's own hostname (--hostname too) answers with its own address, as its /etc/hosts does.
    if (client?.hostname && client.hostname.toLowerCase() === name) {
      const own = client.endpoints.find((e) => e.ip === clientIp);
      return own?.ip6 ? [clientIp, own.ip6] : [clientIp];
    }
    const nets = new Set(client ? client.endpoints.map((e) => e.networkId) : [n.record.Id]);
    const ordered = [n.record.Id, ...[...nets].filter((id) => id !== n.record.Id)];
    for (const netId of ordered) {
      const net = this.registry.tryFind(netId);
      if (!net || net.isDefault || !nets.has(netId)) continue;
      const ips = this.endpointsOf(net).filter(({ sb, ep }) => dnsNames(sb, ep).includes(name)).flatMap(({ ep }) => (ep.ip6 ? [ep.ip, ep.ip6] : [ep.ip]));
      if (ips.length) return ips;
    }
    return null;
  }

  private upstreamsFor(n: Network, clientIp: string): string[] {
    if (n.record.Internal) return [];
    const client = this.endpointsOf(n).find(({ ep }) => ep.ip === clientIp)?.sb;
    return upstreamServers(hostResolvConf(), { dns: client?.dns ?? [], dnsSearch: [], dnsOptions: [] });
  }

  private async teardownNetwork(n: Network): Promise<void> {
    await this.resolvers.get(n.record.Id)?.close();
    this.resolvers.delete(n.record.Id);
    if (n.record.overlay) await deleteLink(vxlanName(n.record.Id));
    await deleteLink(n.bridge!);
    await this.registry.remove(n);
  }

  /** Replaces the daemon's nft table with one built from the current state, one change at a time. */
  private syncRules(bridgesChanged = false): Promise<void> {
    const next = this.rulesQueue.then(async () => {
      const bridges = this.registry.bridges().map((n) => ({ ifname: n.bridge!, subnet: n.record.IPAM.Config[0].Subnet, internal: n.record.Internal }));
      await nftApply(renderRuleset(this.table, { bridges, ports: [...this.sandboxes.values()].flatMap((s) => s.ports).filter((p) => !isV6(p.hostIp)) }));
      if (bridgesChanged) await this.syncHostForward(bridges);
    });
    this.rulesQueue = next.catch(() => undefined);
    return next;
  }

  /** Our accept rules in a dropping iptables FORWARD chain (see hostforward.ts); none = remove ours. */
  private async syncHostForward(bridges: BridgeRules[]): Promise<void> {
    const chain = await readForwardChain(this.table);
    const script = chain ? forwardScript(chain, this.table, bridges) : '';
    if (script) await nftApply(script);
  }

  private emit(n: Network, action: string, container?: string): void {
    this.opts.events.emit({ Type: 'network', Action: action, Actor: { ID: n.record.Id, Attributes: { name: n.record.Name, type: n.record.Driver, ...(container ? { container } : {}) } } });
  }
}

function releaseAddresses(n: Network | undefined, ep: EndpointRecord): void {
  n?.pool?.release(ep.ip);
  if (ep.ip6) n?.pool6?.release(ep.ip6);
}

/** The record as the API shows it: engine-internal fields left out. */
function apiRecord(record: NetworkRecord): Omit<NetworkRecord, 'bridgeName' | 'overlay' | 'impliedGateways'> {
  const { bridgeName: _b, overlay: _o, impliedGateways, ...shown } = record;
  if (!impliedGateways?.length) return shown;
  // As dockerd: a subnet given without a gateway is shown as given.
  const Config = shown.IPAM.Config.map((c) => {
    if (!impliedGateways.includes(c.Subnet)) return c;
    const { Gateway: _g, ...rest } = c;
    return rest;
  });
  return { ...shown, IPAM: { ...shown.IPAM, Config: Config as typeof shown.IPAM.Config } };
}

/**
 * The proxy of an engine that was killed exits once it sees its stdin close, which can
 * be a moment after the new engine is up: its port is asked for again for up to 3 s.
 */
async function reopenProxy(req: PortRequest, containerIp: string): Promise<PortProxy> {
  for (let waited = 0; ; waited += 100) {
    try {
      return await openProxy(req, containerIp);
    } catch (err) {
      if (((err as Error).cause as NodeJS.ErrnoException | undefined)?.code !== 'EADDRINUSE' || waited >= 3000) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
