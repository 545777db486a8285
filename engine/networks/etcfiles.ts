import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from '../errors.js';
import { parseIp } from './cidr.js';

export const EMBEDDED_DNS = '127.0.0.11';
const FALLBACK_DNS = ['8.8.8.8', '8.8.4.4'];

export interface HostResolvConf { nameservers: string[]; search: string[]; options: string[] }

export function parseResolvConf(text: string): HostResolvConf {
  const out: HostResolvConf = { nameservers: [], search: [], options: [] };
  for (const line of text.split('\n')) {
    const [key, ...rest] = line.replace(/[#;].*$/, '').trim().split(/\s+/);
    if (key === 'nameserver' && rest[0]) out.nameservers.push(rest[0]);
    else if (key === 'search' || key === 'domain') out.search = rest;
    else if (key === 'options') out.options.push(...rest);
  }
  return out;
}

export function hostResolvConf(path = '/etc/resolv.conf'): HostResolvConf {
  try {
    return parseResolvConf(readFileSync(path, 'utf8'));
  } catch {
    return { nameservers: [], search: [], options: [] };
  }
}

const isLoopback = (ip: string) => ip.startsWith('127.') || ip === '::1';

export interface DnsOverrides { dns: string[]; dnsSearch: string[]; dnsOptions: string[] }

/**
 * The container's resolv.conf. On user networks the embedded resolver answers (and
 * forwards to `dns` or the host's servers); elsewhere the host's servers are copied,
 * minus loopback ones, which mean nothing inside another namespace.
 */
export function renderResolvConf(host: HostResolvConf, o: DnsOverrides, embedded: boolean, hostNetwork: boolean): string {
  const search = o.dnsSearch.length ? o.dnsSearch.filter((s) => s !== '.') : host.search;
  const options = o.dnsOptions.length ? o.dnsOptions : host.options;
  let servers: string[];
  if (embedded) servers = [EMBEDDED_DNS];
  else if (o.dns.length) servers = o.dns;
  else if (hostNetwork) servers = host.nameservers;
  else {
    servers = host.nameservers.filter((s) => !isLoopback(s));
    if (!servers.length) servers = FALLBACK_DNS;
  }
  const lines = servers.map((s) => `nameserver ${s}`);
  if (search.length) lines.push(`search ${search.join(' ')}`);
  if (embedded) lines.push(`options ${['ndots:0', ...options.filter((x) => !x.startsWith('ndots:'))].join(' ')}`);
  else if (options.length) lines.push(`options ${options.join(' ')}`);
  return lines.join('\n') + '\n';
}

/** Upstream servers of the embedded resolver for one container. */
export function upstreamServers(host: HostResolvConf, o: DnsOverrides): string[] {
  return o.dns.length ? o.dns : host.nameservers;
}

/** Validates --dns values and --add-host entries ("name:ip", "name=ip"). */
export function validateDns(dns: string[]): void {
  for (const s of dns) parseIp(s, `DNS server (--dns ${s})`);
}

export function parseExtraHost(entry: string, hostGateway: string): { name: string; ip: string } {
  const m = /^([^:=]+)[:=](.+)$/.exec(entry.trim());
  if (!m) throw new InvalidArgumentError(`invalid extra host "${entry}": expected NAME:IP`);
  const ip = m[2] === 'host-gateway' ? hostGateway : m[2].replace(/^\[|\]$/g, '');
  if (!ip.includes(':')) parseIp(ip, `address of extra host ${m[1]}`);
  return { name: m[1], ip };
}

export interface HostsEntry { ip: string; names: string[] }

export function renderHosts(self: HostsEntry[], extra: HostsEntry[]): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
    ...extra.map((e) => `${e.ip}\t${e.names.join(' ')}`),
    ...self.map((e) => `${e.ip}\t${e.names.join(' ')}`),
  ];
  return lines.join('\n') + '\n';
}
