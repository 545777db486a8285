import { createHash } from 'node:crypto';
import { ConflictError, InvalidArgumentError, UnavailableError } from '../errors.js';
import { type Cidr6, contains6, formatCidr6, formatIp6, lastAddress6, overlaps6, parseCidr6, parseIp6 } from './cidr6.js';
import type { IpamConfig } from './ipam.js';

/**
 * The IPv6 addresses of one network. A /64 has more addresses than a daemon will ever
 * hand out, so allocation just counts up from the first after the gateway, skipping
 * addresses held (static --ip6 ones, or restored ones).
 */
export class AddressPool6 {
  readonly subnet: Cidr6;
  readonly gateway: bigint;
  private readonly range: Cidr6;
  private readonly used = new Set<bigint>();
  private next: bigint;

  constructor(readonly config: IpamConfig) {
    this.subnet = parseCidr6(config.Subnet);
    if (this.subnet.prefix > 126) throw new InvalidArgumentError(`subnet ${config.Subnet} is too small: use a prefix of /126 or shorter`);
    this.gateway = parseIp6(config.Gateway, 'gateway');
    if (!this.isHost(this.gateway)) throw new InvalidArgumentError(`gateway ${config.Gateway} is not a usable address of subnet ${config.Subnet}`);
    this.range = config.IPRange ? parseCidr6(config.IPRange, 'ip-range') : this.subnet;
    if (!contains6(this.subnet, this.range.base) || !contains6(this.subnet, lastAddress6(this.range))) {
      throw new InvalidArgumentError(`ip-range ${config.IPRange} is not inside subnet ${config.Subnet}`);
    }
    this.next = this.range.base > this.subnet.base ? this.range.base : this.subnet.base + 1n;
  }

  reserve(ipText: string): void {
    const ip = parseIp6(ipText);
    if (!this.isHost(ip)) throw new InvalidArgumentError(`address ${ipText} is not a usable address of subnet ${this.config.Subnet}`);
    if (ip === this.gateway || this.used.has(ip)) throw new ConflictError(`address ${ipText} is already in use on subnet ${this.config.Subnet}`);
    this.used.add(ip);
  }

  allocate(): string {
    const end = lastAddress6(this.range) < lastAddress6(this.subnet) ? lastAddress6(this.range) : lastAddress6(this.subnet) - 1n;
    const first = this.range.base > this.subnet.base ? this.range.base : this.subnet.base + 1n;
    for (let tries = 0n, span = end - first + 1n; tries < span && tries < 65536n; tries++) {
      const ip = this.next > end || this.next < first ? first : this.next;
      this.next = ip + 1n;
      if (ip !== this.gateway && !this.used.has(ip)) {
        this.used.add(ip);
        return formatIp6(ip);
      }
    }
    throw new UnavailableError(`no address left in ${this.config.IPRange ?? this.config.Subnet}: remove containers from the network or use a larger subnet`);
  }

  release(ipText: string): void {
    this.used.delete(parseIp6(ipText));
  }

  private isHost(ip: bigint): boolean {
    return contains6(this.subnet, ip) && ip !== this.subnet.base;
  }
}

/**
 * dockerd's default IPv6 pool: a ULA /48 whose 40-bit global ID comes from the
 * daemon's identity (here its data-root), split into /64s.
 */
export function defaultPool6(seed: string): { base: string; size: number } {
  const id = createHash('sha256').update(seed).digest();
  const base = (0xfdn << 120n) | (BigInt(`0x${id.subarray(0, 5).toString('hex')}`) << 80n);
  return { base: formatCidr6({ base, prefix: 48 }), size: 64 };
}

/** `--default-address-pools base=fd00:1::/48,size=64`, the IPv6 kind. */
export function parsePool6Spec(spec: string): { base: string; size: number } {
  const fields = Object.fromEntries(spec.split(',').map((kv) => kv.split('=', 2).map((s) => s.trim())));
  const size = Number(fields.size);
  const base = parseCidr6(fields.base ?? '', 'default address pool');
  if (!Number.isInteger(size) || size < base.prefix || size > 126) {
    throw new InvalidArgumentError(`invalid default address pool "${spec}": expected base=CIDR,size=N (N from the base's prefix to 126)`);
  }
  return { base: fields.base, size };
}

/** The first /size subnet of the pools that overlaps none of `taken`. */
export function pickSubnet6(pools: Array<{ base: string; size: number }>, taken: Cidr6[]): IpamConfig {
  for (const pool of pools) {
    const p = parseCidr6(pool.base);
    const step = 1n << BigInt(128 - pool.size);
    for (let i = 0n, base = p.base; i < 65536n && base <= lastAddress6(p); i++, base += step) {
      const candidate = { base, prefix: pool.size };
      if (!taken.some((t) => overlaps6(t, candidate))) return { Subnet: formatCidr6(candidate), Gateway: formatIp6(base + 1n) };
    }
  }
  throw new UnavailableError('all predefined IPv6 address pools are in use: give an IPv6 --subnet, or free a network (docker network prune)');
}

/** A user's IPv6 IPAM config completed (gateway defaults to the first address) and checked. */
export function completeConfig6(cfg: { Subnet?: string; Gateway?: string; IPRange?: string }): IpamConfig {
  if (!cfg.Subnet) throw new InvalidArgumentError('an IPv6 IPAM config needs a subnet (--subnet) when it sets a gateway or ip-range');
  const subnet = parseCidr6(cfg.Subnet);
  const out: IpamConfig = { Subnet: formatCidr6(subnet), Gateway: cfg.Gateway ?? formatIp6(subnet.base + 1n) };
  if (cfg.IPRange) out.IPRange = cfg.IPRange;
  new AddressPool6(out);
  return out;
}
