import { isIPv6 } from 'node:net';
import { InvalidArgumentError } from '../errors.js';

/** An IPv6 subnet: `base` is the network address as a 128-bit number. */
export interface Cidr6 { base: bigint; prefix: number }

const ALL = (1n << 128n) - 1n;

/** True when the text is written as an IPv6 address or subnet (IPAM configs mix both families). */
export function isV6(text: string | undefined): boolean {
  return Boolean(text?.includes(':'));
}

export function parseIp6(text: string, what = 'IPv6 address'): bigint {
  const t = text.trim();
  if (!isIPv6(t) || t.includes('%')) throw new InvalidArgumentError(`invalid ${what} "${text}": expected an IPv6 address like fd00:1::2`);
  let s = t;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s); // a dotted tail: ::ffff:1.2.3.4
  if (v4) s = s.slice(0, v4.index) + `${((+v4[1] << 8) | +v4[2]).toString(16)}:${((+v4[3] << 8) | +v4[4]).toString(16)}`;
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const tl = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - tl.length).fill('0'), ...tl];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** RFC 5952 text: lower case, the longest run of zero groups as "::". */
export function formatIp6(n: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

function maskOf6(prefix: number): bigint {
  return prefix === 0 ? 0n : (ALL << BigInt(128 - prefix)) & ALL;
}

export function parseCidr6(text: string, what = 'subnet'): Cidr6 {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text.trim());
  if (!m || Number(m[2]) > 128) throw new InvalidArgumentError(`invalid ${what} "${text}": expected CIDR notation like fd00:1::/64`);
  const ip = parseIp6(m[1], what);
  const prefix = Number(m[2]);
  const base = ip & maskOf6(prefix);
  if (base !== ip) throw new InvalidArgumentError(`invalid ${what} "${text}": host bits are set, did you mean ${formatCidr6({ base, prefix })}?`);
  return { base, prefix };
}

export function formatCidr6(c: Cidr6): string {
  return `${formatIp6(c.base)}/${c.prefix}`;
}

export function lastAddress6(c: Cidr6): bigint {
  return c.base | (~maskOf6(c.prefix) & ALL);
}

export function contains6(c: Cidr6, ip: bigint): boolean {
  return (ip & maskOf6(c.prefix)) === c.base;
}

export function overlaps6(a: Cidr6, b: Cidr6): boolean {
  return contains6(a, b.base) || contains6(b, a.base);
}

/** fe80::/10 (link-local unicast). */
export function isLinkLocal6(ip: bigint): boolean {
  return ip >> 118n === 0x3fan;
}
