import { InvalidArgumentError } from '../errors.js';

/** An IPv4 subnet: `base` is the network address as an unsigned 32-bit number. */
export interface Cidr { base: number; prefix: number }

export function parseIp(text: string, what = 'IP address'): number {
  const parts = text.trim().split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new InvalidArgumentError(`invalid ${what} "${text}": expected an IPv4 address like 172.18.0.2`);
  }
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIp(ip: number): string {
  return [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.');
}

function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parses "a.b.c.d/n"; host bits must be zero unless `allowHostBits` (for --bip, which names the gateway). */
export function parseCidr(text: string, what = 'subnet', allowHostBits = false): Cidr {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text.trim());
  if (!m || Number(m[2]) > 32) throw new InvalidArgumentError(`invalid ${what} "${text}": expected CIDR notation like 172.18.0.0/16`);
  const ip = parseIp(m[1], what);
  const prefix = Number(m[2]);
  const base = (ip & maskOf(prefix)) >>> 0;
  if (base !== ip && !allowHostBits) {
    throw new InvalidArgumentError(`invalid ${what} "${text}": host bits are set, did you mean ${formatCidr({ base, prefix })}?`);
  }
  return { base, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.base)}/${c.prefix}`;
}

export function size(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function lastAddress(c: Cidr): number {
  return c.base + size(c) - 1;
}

export function contains(c: Cidr, ip: number): boolean {
  return ((ip & maskOf(c.prefix)) >>> 0) === c.base;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return contains(a, b.base) || contains(b, a.base);
}

/** Splits `pool` into subnets of `prefix` bits, in order. */
export function* subnetsOf(pool: Cidr, prefix: number): Generator<Cidr> {
  if (prefix < pool.prefix) return;
  const step = 2 ** (32 - prefix);
  for (let base = pool.base; base <= lastAddress(pool); base += step) yield { base, prefix };
}
