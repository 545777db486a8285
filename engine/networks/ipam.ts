import { ConflictError, InvalidArgumentError, UnavailableError } from '../errors.js';
import { type Cidr, contains, formatCidr, formatIp, lastAddress, overlaps, parseCidr, parseIp, subnetsOf } from './cidr.js';

/** The IPAM settings of one network, as docker's IPAM.Config entry. */
export interface IpamConfig { Subnet: string; Gateway: string; IPRange?: string }

/**
 * Hands out the addresses of one subnet. Allocation is next-fit: it goes on after the
 * last address given, so a released address is not reused until the range wraps.
 */
export class AddressPool {
  readonly subnet: Cidr;
  readonly gateway: number;
  private readonly range: Cidr;
  private readonly used = new Set<number>();
  private last: number;

  constructor(readonly config: IpamConfig) {
    this.subnet = parseCidr(config.Subnet);
    if (this.subnet.prefix > 30) throw new InvalidArgumentError(`subnet ${config.Subnet} is too small: use a prefix of /30 or shorter`);
    this.gateway = parseIp(config.Gateway, 'gateway');
    if (!this.isHost(this.gateway)) throw new InvalidArgumentError(`gateway ${config.Gateway} is not a usable address of subnet ${config.Subnet}`);
    this.range = config.IPRange ? parseCidr(config.IPRange, 'ip-range') : this.subnet;
    if (!contains(this.subnet, this.range.base) || !contains(this.subnet, lastAddress(this.range))) {
      throw new InvalidArgumentError(`ip-range ${config.IPRange} is not inside subnet ${config.Subnet}`);
    }
    this.last = this.gateway;
  }

  /** Marks an address as taken (restore from the store, or a static --ip). */
  reserve(ipText: string): void {
    const ip = parseIp(ipText);
    if (!this.isHost(ip)) throw new InvalidArgumentError(`address ${ipText} is not a usable address of subnet ${this.config.Subnet}`);
    if (ip === this.gateway || this.used.has(ip)) throw new ConflictError(`address ${ipText} is already in use on subnet ${this.config.Subnet}`);
    this.used.add(ip);
  }

  allocate(): string {
    const first = Math.max(this.range.base, this.subnet.base + 1);
    const end = Math.min(lastAddress(this.range), lastAddress(this.subnet) - 1);
    const count = end - first + 1;
    let ip = this.last;
    for (let i = 0; i < count; i++) {
      ip = ip >= end || ip < first ? first : ip + 1;
      if (ip !== this.gateway && !this.used.has(ip)) {
        this.used.add(ip);
        this.last = ip;
        return formatIp(ip);
      }
    }
    throw new UnavailableError(`no address left in ${this.config.IPRange ?? this.config.Subnet}: remove containers from the network or use a larger subnet`);
  }

  release(ipText: string): void {
    this.used.delete(parseIp(ipText));
  }

  private isHost(ip: number): boolean {
    return contains(this.subnet, ip) && ip !== this.subnet.base && ip !== lastAddress(this.subnet);
  }
}

/** docker's default address pools: 172.17-31.0.0/16, then 192.168.0-240.0/20. */
export const DEFAULT_POOLS: Array<{ base: string; size: number }> = [
  { base: '172.17.0.0/16', size: 16 },
  { base: '172.18.0.0/16', size: 16 }, { base: '172.19.0.0/16', size: 16 },
  { base: '172.20.0.0/14', size: 16 }, { base: '172.24.0.0/14', size: 16 },
  { base: '172.28.0.0/14', size: 16 }, { base: '192.168.0.0/16', size: 20 },
];

/** Parses `--default-address-pools base=10.10.0.0/16,size=24` values. */
export function parsePoolSpec(spec: string): { base: string; size: number } {
  const fields = Object.fromEntries(spec.split(',').map((kv) => kv.split('=', 2).map((s) => s.trim())));
  const size = Number(fields.size);
  if (!fields.base || !Number.isInteger(size) || size < 1 || size > 30) {
    throw new InvalidArgumentError(`invalid default address pool "${spec}": expected base=CIDR,size=N (N from 1 to 30)`);
  }
  const base = parseCidr(fields.base, 'default address pool');
  if (size < base.prefix) throw new InvalidArgumentError(`invalid default address pool "${spec}": size /${size} is larger than the base /${base.prefix}`);
  return { base: fields.base, size };
}

/** The first subnet of the pools that overlaps none of `taken` (host routes and existing networks). */
export function pickSubnet(pools: Array<{ base: string; size: number }>, taken: Cidr[]): IpamConfig {
  for (const pool of pools) {
    for (const candidate of subnetsOf(parseCidr(pool.base), pool.size)) {
      if (!taken.some((t) => overlaps(t, candidate))) {
        return { Subnet: formatCidr(candidate), Gateway: formatIp(candidate.base + 1) };
      }
    }
  }
  throw new UnavailableError('all predefined address pools are in use: give a --subnet, or free a network (docker network prune)');
}

/** Completes a user's IPAM config: gateway defaults to the first address. */
export function completeConfig(cfg: { Subnet?: string; Gateway?: string; IPRange?: string }): IpamConfig {
  if (!cfg.Subnet) throw new InvalidArgumentError('an IPAM config needs a subnet (--subnet) when it sets a gateway or ip-range');
  const subnet = parseCidr(cfg.Subnet);
  const out: IpamConfig = { Subnet: formatCidr(subnet), Gateway: cfg.Gateway ?? formatIp(subnet.base + 1) };
  if (cfg.IPRange) out.IPRange = cfg.IPRange;
  new AddressPool(out); // validates gateway and range now, before anything is made
  return out;
}
