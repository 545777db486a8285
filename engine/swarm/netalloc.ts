/**
 * Swarm networks in the store, and the allocator of their addresses.
 *
 *   networks/<id>          the network: Spec (Name, Labels, Attachable, Ingress, Internal),
 *                          IPAMOptions (one /SubnetSize subnet of DefaultAddrPool), VNI
 *   ipam/<net id>:<ip>     one key per address in use, its value the owner:
 *                          task:<id>, vip:<service id>, node:<node id> (a node's ingress
 *                          address), ctr:<node id>:<container id> (attachable containers)
 *
 * An address is taken by creating its key (compare create_revision == 0), so the
 * leader (tasks, VIPs) and any node (its attachable containers) never hand out the
 * same one. The leader sweeps keys whose owner is gone.
 */
import { ConflictError, ForbiddenError, InvalidArgumentError, NotFoundError } from '../errors.js';
import { formatCidr, formatIp, lastAddress, overlaps, parseCidr, parseIp, subnetsOf } from '../networks/cidr.js';
import type { NetworkRecord } from '../networks/index.js';
import { find } from './objects.js';
import { newId, nowIso } from './spec.js';
import type { Obj, Store } from './store.js';

export const VXLAN_OPT = 'com.docker.network.driver.overlay.vxlanid_list';
const FIRST_VNI = 4096;
export const INGRESS = 'ingress';

export interface SwarmNetwork {
  ID: string;
  CreatedAt: string;
  UpdatedAt: string;
  Spec: { Name: string; Labels: Record<string, string>; DriverConfiguration: { Name: 'overlay'; Options?: Record<string, string> }; Attachable: boolean; Ingress: boolean; Internal: boolean; Scope: 'swarm' };
  DriverState: { Name: 'overlay'; Options: Record<string, string> };
  IPAMOptions: { Driver: { Name: 'default' }; Configs: Array<{ Subnet: string; Gateway: string }> };
  VNI: number;
  /** The cluster's VXLAN port, copied here: workers may not read the cluster object (join tokens). */
  DataPathPort?: number;
}

export const subnetOf = (n: SwarmNetwork) => n.IPAMOptions.Configs[0].Subnet;

/** The network as GET /networks shows it (Scope swarm). */
export function networkView(o: Obj<SwarmNetwork>, containers: Record<string, unknown> = {}): any {
  const n = o.value;
  return {
    Name: n.Spec.Name, Id: o.id, Created: n.CreatedAt, Scope: 'swarm', Driver: 'overlay', EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: n.IPAMOptions.Configs }, Internal: n.Spec.Internal, Attachable: n.Spec.Attachable,
    Ingress: n.Spec.Ingress, ConfigFrom: { Network: '' }, ConfigOnly: false, Containers: containers,
    Options: n.DriverState.Options, Labels: n.Spec.Labels,
  };
}

/** The record a node's network service makes the overlay from. */
export function localRecord(o: Obj<SwarmNetwork>, local: string, port: number): NetworkRecord {
  return { ...networkView(o), Containers: undefined, overlay: { vni: o.value.VNI, port, local } } as NetworkRecord;
}

export function findNetwork(store: Store, ref: string): Promise<Obj<SwarmNetwork>> {
  return find(store, 'networks', ref, (v) => v.Spec.Name, 'network') as Promise<Obj<SwarmNetwork>>;
}

/** The next free /size of the pools, and the next VNI. */
function plan(existing: SwarmNetwork[], pools: string[], size: number, wanted?: string): { subnet: string; vni: number } {
  const taken = existing.map((n) => parseCidr(subnetOf(n)));
  const vni = Math.max(FIRST_VNI - 1, ...existing.map((n) => n.VNI)) + 1;
  if (wanted) {
    const c = parseCidr(wanted, 'subnet');
    const clash = existing.find((n) => overlaps(parseCidr(subnetOf(n)), c));
    if (clash) throw new ConflictError(`subnet ${wanted} overlaps swarm network ${clash.Spec.Name} (${subnetOf(clash)}): choose another --subnet`);
    return { subnet: formatCidr(c), vni };
  }
  for (const pool of pools) {
    const base = parseCidr(pool, 'default address pool');
    for (const s of subnetsOf(base, Math.max(size, base.prefix))) {
      if (!taken.some((t) => overlaps(t, s))) return { subnet: formatCidr(s), vni };
    }
  }
  throw new ConflictError(`no subnet of /${size} left in the swarm's default address pools (${pools.join(', ')}): remove a network or give --subnet`);
}

export async function createNetwork(store: Store, req: any, cluster: any, ingress = false): Promise<string> {
  const name: string = req?.Name;
  if (!name || !/^[^/\x00-\x1f]+$/.test(name)) throw new InvalidArgumentError(`invalid network name "${name ?? ''}": a name must be non-empty, without "/" or control characters`);
  if (req.EnableIPv6) throw new InvalidArgumentError('IPv6 overlay networks are not supported by berthd: drop --ipv6');
  if (req.IPAM?.Driver && req.IPAM.Driver !== 'default') throw new InvalidArgumentError(`IPAM driver "${req.IPAM.Driver}" is not supported: use the default driver`);
  const configs = (req.IPAM?.Config ?? []).filter((c: any) => c.Subnet);
  if (configs.length > 1) throw new InvalidArgumentError('berthd supports one IPv4 subnet per overlay network');
  if (req.Options && 'encrypted' in req.Options) throw new InvalidArgumentError('encrypted overlay networks (--opt encrypted) are not supported by berthd: drop the option');
  if (req.Ingress && !ingress) {
    throw new ForbiddenError('the ingress network is made by swarm init: berthd does not replace it');
  }
  const all = await store.list<SwarmNetwork>('networks');
  if (all.some((o) => o.value.Spec.Name === name)) throw new ConflictError(`network with name ${name} already exists`);
  const { subnet, vni } = plan(all.map((o) => o.value), cluster.DefaultAddrPool ?? ['10.0.0.0/8'], cluster.SubnetSize ?? 24, configs[0]?.Subnet);
  const c = parseCidr(subnet);
  const gateway = configs[0]?.Gateway ?? formatIp(c.base + 1);
  if (parseIp(gateway) <= c.base || parseIp(gateway) >= lastAddress(c)) throw new InvalidArgumentError(`gateway ${gateway} is not a usable address of subnet ${subnet}`);
  const id = newId();
  const now = nowIso();
  const value: SwarmNetwork = {
    ID: id, CreatedAt: now, UpdatedAt: now,
    Spec: {
      Name: name, Labels: req.Labels ?? {}, DriverConfiguration: { Name: 'overlay', ...(req.Options ? { Options: req.Options } : {}) },
      Attachable: Boolean(req.Attachable), Ingress: ingress, Internal: Boolean(req.Internal), Scope: 'swarm',
    },
    DriverState: { Name: 'overlay', Options: { ...(req.Options ?? {}), [VXLAN_OPT]: String(vni) } },
    IPAMOptions: { Driver: { Name: 'default' }, Configs: [{ Subnet: subnet, Gateway: gateway }] },
    VNI: vni,
    DataPathPort: cluster.DataPathPort || 4789,
  };
  await store.create('networks', id, value);
  return id;
}

/** Services whose tasks use a network (by id). */
export function usersOf(services: Obj[], netId: string): string[] {
  return services.filter((s) => networkTargets(s.value.Spec).includes(netId) || (s.value.Endpoint?.VirtualIPs ?? []).some((v: any) => v.NetworkID === netId)).map((s) => s.value.Spec.Name);
}

export async function removeNetwork(store: Store, ref: string): Promise<void> {
  const o = await findNetwork(store, ref);
  if (o.value.Spec.Ingress) throw new ForbiddenError('the ingress network cannot be removed while the node is in a swarm');
  const users = usersOf(await store.list<any>('services'), o.id);
  if (users.length) throw new ConflictError(`rpc error: code = FailedPrecondition desc = network ${o.value.Spec.Name} is in use by service ${users.join(', ')}`);
  await store.delete('networks', o.id);
}

export function networkTargets(spec: any): string[] {
  return (spec.TaskTemplate?.Networks ?? []).map((n: any) => n.Target);
}

/** Service spec: network targets (names or ids) become ids; the legacy top-level Networks move to the task template. */
export async function resolveServiceNetworks(store: Store, spec: any): Promise<any> {
  const refs = spec.TaskTemplate?.Networks ?? spec.Networks ?? [];
  if (!refs.length) return spec;
  const out = [];
  for (const r of refs) {
    if (!r?.Target) throw new InvalidArgumentError('a service network needs a Target (network name or id)');
    const n = await findNetwork(store, r.Target).catch((err) => {
      if (err instanceof NotFoundError) throw new NotFoundError(`network ${r.Target} not found: create it with "docker network create -d overlay ${r.Target}"`);
      throw err;
    });
    if (n.value.Spec.Ingress) throw new InvalidArgumentError('service cannot be explicitly attached to the ingress network: publish a port instead');
    out.push({ ...r, Target: n.id });
  }
  const { Networks: _legacy, ...rest } = spec;
  return { ...rest, TaskTemplate: { ...spec.TaskTemplate, Networks: out } };
}

// ---- addresses ----

export const ipamId = (netId: string, ip: string) => `${netId}:${ip}`;

export interface IpamEntry { netId: string; ip: string; owner: string; version: number }

export async function listIpam(store: Store): Promise<IpamEntry[]> {
  return (await store.list<{ owner: string }>('ipam')).map((o) => {
    const [netId, ip] = o.id.split(':');
    return { netId, ip, owner: o.value.owner, version: o.version };
  });
}

/**
 * Takes a free address of the network for `owner`; `used` (the addresses the caller
 * saw taken) grows with it. Another allocator winning the same address moves on.
 */
export async function allocateIp(store: Store, net: SwarmNetwork, owner: string, used: Set<string>): Promise<string> {
  const c = parseCidr(subnetOf(net));
  const gateway = parseIp(net.IPAMOptions.Configs[0].Gateway);
  let conflicts = 0;
  for (let ip = c.base + 1; ip < lastAddress(c); ip++) {
    if (ip === gateway) continue;
    const text = formatIp(ip);
    if (used.has(text)) continue;
    used.add(text);
    try {
      await store.create('ipam', ipamId(net.ID, text), { owner });
      return text;
    } catch (err) {
      // taken meanwhile by another allocator; a deposed leader's writes all fail: give up soon
      if (!(err instanceof ConflictError) || ++conflicts > 16) throw err;
    }
  }
  throw new ConflictError(`no address left on swarm network ${net.Spec.Name} (${subnetOf(net)}): remove tasks or use a larger subnet`);
}

/** Addresses in use on one network, as an allocator starts from. */
export function usedOn(ipam: IpamEntry[], netId: string): Set<string> {
  return new Set(ipam.filter((e) => e.netId === netId).map((e) => e.ip));
}

export async function releaseIp(store: Store, netId: string, ip: string): Promise<void> {
  await store.delete('ipam', ipamId(netId, ip));
}

