import { randomBytes } from 'node:crypto';
import { ConflictError, ForbiddenError, InvalidArgumentError, NotFoundError } from '../errors.js';
import { type Cidr, overlaps as overlapsCidr, parseCidr } from './cidr.js';
import { AddressPool, type IpamConfig, completeConfig, pickSubnet } from './ipam.js';
import { type Cidr6, isV6, overlaps6, parseCidr6 } from './cidr6.js';
import { AddressPool6, completeConfig6, pickSubnet6 } from './ipam6.js';
import { DRIVER_OPT_BRIDGE, DRIVER_OPT_DEFAULT_BRIDGE, DRIVER_OPT_MTU, type NetworkRecord } from './index.js';
import type { NetworkStore } from './store.js';
import { VXLAN_OVERHEAD } from './overlay.js';

/** A network with its live parts (address pool). */
export interface Network {
  record: NetworkRecord;
  pool: AddressPool | null;
  /** IPv6 addresses, on networks made with EnableIPv6. */
  pool6: AddressPool6 | null;
  /** The bridge interface; null for host/none. */
  bridge: string | null;
  mtu: number;
  /** The default bridge has no name resolution. */
  isDefault: boolean;
}

export interface CreateRequest {
  Name: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean;
  CheckDuplicate?: boolean;
  IPAM?: { Driver?: string; Config?: Array<{ Subnet?: string; Gateway?: string; IPRange?: string }> | null; Options?: Record<string, string> | null } | null;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

// dockerd takes any name (spaces too); "/" would not survive the API's URL paths.
const NAME_RE = /^[^/\x00-\x1f]+$/;
const PREDEFINED = ['bridge', 'host', 'none'];
const IFNAME_RE = /^[a-zA-Z0-9_.-]{1,15}$/;

export function newId(): string {
  return randomBytes(32).toString('hex');
}

/** The networks of this daemon, by id, with docker's name/ID-prefix lookup. */
export class NetworkRegistry {
  private readonly byId = new Map<string, Network>();

  constructor(private readonly store: NetworkStore, private readonly hostMtu: number) {}

  all(): Network[] {
    return [...this.byId.values()];
  }

  bridges(): Network[] {
    return this.all().filter((n) => n.bridge);
  }

  /** docker's lookup order: full id, exact name, then a unique id prefix. */
  find(idOrName: string): Network {
    const exact = this.byId.get(idOrName) ?? this.all().find((n) => n.record.Name === idOrName);
    if (exact) return exact;
    const matches = idOrName ? this.all().filter((n) => n.record.Id.startsWith(idOrName)) : [];
    if (matches.length === 1) return matches[0];
    if (matches.length > 1) throw new InvalidArgumentError(`network ${idOrName} is ambiguous (${matches.length} matches): use more of its ID`);
    throw new NotFoundError(`network ${idOrName} not found`);
  }

  tryFind(idOrName: string): Network | undefined {
    try {
      return this.find(idOrName);
    } catch {
      return undefined;
    }
  }

  /** Adds a stored network back (engine start). */
  load(record: NetworkRecord): Network {
    const n = this.materialize(record);
    this.byId.set(record.Id, n);
    return n;
  }

  /** Validates a create request into a record; nothing is made yet. */
  plan(req: CreateRequest, taken: Cidr[], pools: Array<{ base: string; size: number }>, v6: { taken: Cidr6[]; pools: Array<{ base: string; size: number }> } = { taken: [], pools: [] }): NetworkRecord {
    const name = req.Name;
    if (!name || !NAME_RE.test(name)) throw new InvalidArgumentError(`invalid network name "${name ?? ''}": a name must be non-empty, without "/" or control characters`);
    if (PREDEFINED.includes(name)) throw new ForbiddenError(`operation is not permitted on predefined ${name} network `);
    if (this.all().some((n) => n.record.Name === name)) throw new ConflictError(`network with name ${name} already exists`);
    const driver = req.Driver || 'bridge';
    if (driver === 'host' || driver === 'null') throw new ForbiddenError(`only one instance of "${driver}" network is allowed`);
    if (driver === 'overlay') throw new ForbiddenError('This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.');
    if (driver !== 'bridge') throw new InvalidArgumentError(`network driver "${driver}" is not supported: berthd has the bridge and overlay drivers`);
    if (req.IPAM?.Driver && req.IPAM.Driver !== 'default') throw new InvalidArgumentError(`IPAM driver "${req.IPAM.Driver}" is not supported: use the default driver`);
    const options = { ...(req.Options ?? {}) };
    const id = newId();
    const bridge = options[DRIVER_OPT_BRIDGE] ?? `br-${id.slice(0, 12)}`;
    if (!IFNAME_RE.test(bridge)) throw new InvalidArgumentError(`invalid bridge name "${bridge}": up to 15 letters, digits, "_", "." or "-"`);
    if (this.all().some((n) => n.bridge === bridge)) throw new ConflictError(`bridge ${bridge} is already used by network ${this.all().find((n) => n.bridge === bridge)!.record.Name}`);
    if (options[DRIVER_OPT_MTU] !== undefined) mtuOf(options);
    const given = (req.IPAM?.Config ?? []).filter((c) => c.Subnet || c.Gateway || c.IPRange);
    const requested = given.filter((c) => !isV6(c.Subnet ?? c.Gateway ?? c.IPRange));
    if (requested.length > 1) throw new InvalidArgumentError('berthd supports one IPv4 subnet per network');
    const config6 = this.planV6(req, given.filter((c) => isV6(c.Subnet ?? c.Gateway ?? c.IPRange)), v6);
    let config: IpamConfig;
    if (requested.length) {
      config = completeConfig(requested[0]);
      const subnet = parseCidr(config.Subnet);
      const clash = this.all().find((n) => n.pool && overlapsCidr(n.pool.subnet, subnet));
      if (clash) throw new ConflictError(`subnet ${config.Subnet} overlaps network ${clash.record.Name} (${clash.record.IPAM.Config[0].Subnet}): choose another --subnet`);
      const route = taken.find((t) => overlapsCidr(t, subnet));
      if (route) throw new ConflictError(`subnet ${config.Subnet} overlaps a route of the host: choose another --subnet`);
    } else {
      config = pickSubnet(pools, [...taken, ...this.all().flatMap((n) => (n.pool ? [n.pool.subnet] : []))]);
    }
    return {
      Name: name,
      Id: id,
      Created: new Date().toISOString(),
      Scope: 'local',
      Driver: 'bridge',
      EnableIPv6: Boolean(req.EnableIPv6),
      IPAM: { Driver: 'default', Options: req.IPAM?.Options ?? null, Config: config6 ? [config, config6] : [config] },
      Internal: Boolean(req.Internal),
      Attachable: Boolean(req.Attachable),
      Ingress: false,
      ConfigFrom: { Network: '' },
      ConfigOnly: false,
      // Only what the user gave (compose compares it to decide on a recreate); the chosen bridge is apart.
      Options: options,
      Labels: req.Labels ?? {},
      bridgeName: bridge,
      impliedGateways: given.filter((c) => c.Subnet && !c.Gateway).map((c) => (c === requested[0] ? config.Subnet : config6!.Subnet)),
    };
  }

  /**
   * The IPv6 subnet of a network: the one given, or with EnableIPv6 the next of the pools.
   * As dockerd, one given without EnableIPv6 is kept (shown) but gives no addresses.
   */
  private planV6(req: CreateRequest, requested: Array<{ Subnet?: string; Gateway?: string; IPRange?: string }>, v6: { taken: Cidr6[]; pools: Array<{ base: string; size: number }> }): IpamConfig | null {
    if (requested.length > 1) throw new InvalidArgumentError('berthd supports one IPv6 subnet per network');
    if (!req.EnableIPv6 && !requested.length) return null;
    const inUse = this.all().flatMap((n) => (n.pool6 ? [n.pool6.subnet] : []));
    if (!requested.length) return pickSubnet6(v6.pools, [...v6.taken, ...inUse]);
    const config = completeConfig6(requested[0]);
    const subnet = parseCidr6(config.Subnet);
    const clash = this.all().find((n) => n.pool6 && overlaps6(n.pool6.subnet, subnet));
    if (clash) throw new ConflictError(`subnet ${config.Subnet} overlaps network ${clash.record.Name} (${clash.pool6!.config.Subnet}): choose another --subnet`);
    if (req.EnableIPv6 && v6.taken.some((t) => overlaps6(t, subnet))) throw new ConflictError(`subnet ${config.Subnet} overlaps a route of the host: choose another --subnet`);
    return config;
  }

  async add(record: NetworkRecord): Promise<Network> {
    const n = this.materialize(record);
    await this.store.saveNetwork(record);
    this.byId.set(record.Id, n);
    return n;
  }

  async remove(n: Network): Promise<void> {
    await this.store.removeNetwork(n.record.Id);
    this.byId.delete(n.record.Id);
  }

  private materialize(record: NetworkRecord): Network {
    const isBridge = record.Driver === 'bridge' || record.Driver === 'overlay';
    const overlay = record.Driver === 'overlay';
    return {
      record,
      pool: isBridge ? new AddressPool(record.IPAM.Config[0]) : null,
      pool6: isBridge && record.EnableIPv6 && record.IPAM.Config[1] ? new AddressPool6(record.IPAM.Config[1]) : null,
      bridge: overlay ? `ov-${record.Id.slice(0, 12)}` : isBridge ? record.Options[DRIVER_OPT_BRIDGE] ?? record.bridgeName ?? null : null,
      mtu: isBridge ? (mtuOf(record.Options) ?? this.hostMtu - (overlay ? VXLAN_OVERHEAD : 0)) : 0,
      isDefault: record.Options[DRIVER_OPT_DEFAULT_BRIDGE] === 'true',
    };
  }
}

function mtuOf(options: Record<string, string>): number | undefined {
  const v = options[DRIVER_OPT_MTU];
  if (v === undefined || v === '') return undefined;
  const mtu = Number(v);
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new InvalidArgumentError(`invalid MTU "${v}": expected a number from 68 to 65535`);
  return mtu;
}
