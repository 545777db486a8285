import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { formatIp, parseCidr, parseIp } from './cidr.js';
import type { EndpointRecord, NetworkRecord, SandboxRecord } from './index.js';
import { newId } from './registry.js';

/** Small rules of the network service: names, addresses, predefined records. */

/**
 * berth0 for the default data-root; another data-root gets its own name, so two
 * daemons coexist without flags and a restart on the same data-root finds its bridge.
 */
export function defaultBridgeName(dataRoot: string): string {
  if (resolve(dataRoot) === '/var/lib/berth') return 'berth0';
  return `berth-${createHash('sha256').update(resolve(dataRoot)).digest('hex').slice(0, 8)}`;
}

export function dnsNames(sb: SandboxRecord, ep: EndpointRecord): string[] {
  return [sb.name, ...ep.aliases, sb.containerId.slice(0, 12), sb.containerId].map((s) => s.toLowerCase());
}

export function oneOf<T>(list: T[]): T | undefined {
  return list.length === 1 ? list[0] : undefined;
}

export function macFromIp(ip: string): string {
  const n = parseIp(ip);
  return ['02', '42', ...[n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

export function bipConfig(bip: string): { Subnet: string; Gateway: string } {
  const withHost = parseCidr(bip, '--bip', true);
  const gw = parseIp(bip.split('/')[0], '--bip');
  if (gw === withHost.base) throw new InvalidArgumentError(`--bip ${bip}: give the bridge's own address, like 10.20.0.1/24`);
  return { Subnet: `${formatIp(withHost.base)}/${withHost.prefix}`, Gateway: formatIp(gw) };
}

export function baseRecord(name: string, driver: NetworkRecord['Driver']): NetworkRecord {
  return {
    Name: name, Id: newId(), Created: new Date().toISOString(), Scope: 'local', Driver: driver, EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [] }, Internal: false, Attachable: false, Ingress: false,
    ConfigFrom: { Network: '' }, ConfigOnly: false, Options: {}, Labels: {},
  };
}

export async function enableForwarding(): Promise<void> {
  const path = '/proc/sys/net/ipv4/ip_forward';
  if ((await fs.readFile(path, 'utf8')).trim() !== '1') await fs.writeFile(path, '1\n');
}

