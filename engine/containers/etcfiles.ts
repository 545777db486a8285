/** /etc/hostname, /etc/hosts and /etc/resolv.conf of a container, written beside its record. */
import { readFileSync } from 'node:fs';
import { hostname as hostHostname } from 'node:os';
import { rename, writeFile } from 'node:fs/promises';
import type { ContainerRecord } from './record.js';

const BASE_HOSTS = `127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
ff00::0\tip6-mcastprefix
ff02::1\tip6-allnodes
ff02::2\tip6-allrouters
`;

export function defaultHosts(rec: ContainerRecord, ip?: string): string {
  let hosts = BASE_HOSTS;
  for (const extra of rec.hostConfig.ExtraHosts ?? []) {
    const [name, addr] = extra.split(':');
    if (name && addr) hosts += `${addr}\t${name}\n`;
  }
  if (ip) hosts += `${ip}\t${rec.config.Hostname}\n`;
  return hosts;
}

export function hostResolvConf(rec: ContainerRecord): string {
  let lines: string[] = [];
  try {
    lines = readFileSync('/etc/resolv.conf', 'utf8').split('\n');
  } catch {
    // No host resolv.conf: the container gets public resolvers like docker's fallback.
  }
  const hc = rec.hostConfig;
  let nameservers = lines.filter((l) => /^\s*nameserver\s/.test(l)).map((l) => l.trim().split(/\s+/)[1]);
  // Loopback resolvers of the host are unreachable from the container's namespace.
  nameservers = nameservers.filter((n) => !/^127\./.test(n) && n !== '::1');
  if (hc.Dns?.length) nameservers = hc.Dns;
  if (!nameservers.length) nameservers = ['8.8.8.8', '8.8.4.4'];
  const search = hc.DnsSearch?.length ? hc.DnsSearch : lines.filter((l) => /^\s*search\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  const options = hc.DnsOptions?.length ? hc.DnsOptions : lines.filter((l) => /^\s*options\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  let out = nameservers.map((n) => `nameserver ${n}\n`).join('');
  if (search.length) out += `search ${search.join(' ')}\n`;
  if (options.length) out += `options ${options.join(' ')}\n`;
  return out;
}

/** Rewritten at every start from the record: rename for atomicity, no fsync (nothing is lost in a crash). */
async function replaceFile(path: string, data: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

export async function writeEtcFiles(rec: ContainerRecord, files: { hosts: string; resolvConf: string; hostname: string }): Promise<void> {
  await Promise.all([
    replaceFile(rec.hostnamePath, files.hostname + '\n'),
    replaceFile(rec.hostsPath, files.hosts),
    replaceFile(rec.resolvConfPath, files.resolvConf),
  ]);
}

export function hostModeFiles(): { hosts: string; hostname: string } {
  let hosts = BASE_HOSTS;
  try {
    hosts = readFileSync('/etc/hosts', 'utf8');
  } catch {
    // Keep the base hosts when the host has none.
  }
  return { hosts, hostname: hostHostname() };
}
