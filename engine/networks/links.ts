import { promises as fs } from 'node:fs';
import { run } from './exec.js';

/** A shell-quoted word. */
const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export interface BridgeSpec { ifname: string; gatewayCidr: string; mtu: number }

/** Creates the bridge when missing and gives it the gateway address; idempotent (used by restore). */
export async function ensureBridge(b: BridgeSpec): Promise<void> {
  const exists = await linkExists(b.ifname);
  const cmds = [
    ...(exists ? [] : [`link add ${b.ifname} type bridge`]),
    `addr replace ${b.gatewayCidr} dev ${b.ifname}`,
    `link set ${b.ifname} mtu ${b.mtu} up`,
  ];
  await run('ip', ['-batch', '-'], cmds.join('\n') + '\n');
}

export async function deleteLink(ifname: string): Promise<void> {
  if (await linkExists(ifname)) await run('ip', ['link', 'del', ifname]);
}

export async function linkExists(ifname: string): Promise<boolean> {
  try {
    await fs.access(`/sys/class/net/${ifname}`);
    return true;
  } catch {
    return false;
  }
}

/** The MTU of the interface of the host's default route (1500 when there is none). */
export async function hostMtu(): Promise<number> {
  const routes = JSON.parse(await run('ip', ['-j', 'route', 'show', 'default'])) as Array<{ dev?: string }>;
  const dev = routes.find((r) => r.dev)?.dev;
  if (!dev) return 1500;
  return Number((await fs.readFile(`/sys/class/net/${dev}/mtu`, 'utf8')).trim()) || 1500;
}

/** Every IPv4 destination the host routes, in all tables (to pick subnets that overlap none). */
export async function hostRoutes(): Promise<Array<{ dst: string; dev: string }>> {
  const routes = JSON.parse(await run('ip', ['-j', '-4', 'route', 'show', 'table', 'all'])) as Array<{ dst: string; dev?: string; type?: string }>;
  return routes
    .filter((r) => r.dst && r.dst !== 'default' && (r.type ?? 'unicast') === 'unicast' && !r.dst.startsWith('127.'))
    .map((r) => ({ dst: r.dst.includes('/') ? r.dst : `${r.dst}/32`, dev: r.dev ?? '' }));
}

/** One interface to make inside a container's network namespace. */
export interface EndpointLink {
  ifname: string;          // eth0, eth1 …
  hostVeth: string;        // the peer left in the host namespace, enslaved to `bridge`
  bridge: string;
  mac: string;
  addressCidr: string;     // 172.18.0.2/16
  gateway: string | null;  // default route via, null = none (internal network, or not the first)
  mtu: number;
}

/** Extra setup inside the namespace: the embedded DNS redirect of user networks. */
export interface DnsRedirect { target: string; port: number }

/**
 * The shell script run inside the container's namespace: veth creation (the peer goes
 * straight to the engine's namespace, named by its pid), addresses, routes, and the
 * 127.0.0.11:53 redirect to the network's resolver.
 */
function insideScript(links: EndpointLink[], dns: DnsRedirect | null, enginePid: number, withLo: boolean): string {
  const ip: string[] = withLo ? ['link set lo up'] : [];
  for (const l of links) {
    ip.push(`link add ${l.ifname} mtu ${l.mtu} address ${l.mac} type veth peer name ${l.hostVeth} mtu ${l.mtu} netns ${enginePid}`);
    ip.push(`addr add ${l.addressCidr} dev ${l.ifname}`);
    ip.push(`link set ${l.ifname} up`);
    if (l.gateway) ip.push(`route add default via ${l.gateway} dev ${l.ifname}`);
  }
  const parts = [];
  if (ip.length) parts.push(`ip -batch - <<'EOF'\n${ip.join('\n')}\nEOF`);
  if (dns) {
    // The resolver listens on the gateway in the engine's namespace; packets from
    // 127.0.0.1 may only leave through eth0 with route_localnet in this namespace.
    parts.push('echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet');
    parts.push(`nft -f - <<'EOF'\n${dnsRules(dns)}EOF`);
  }
  return ['set -e', ...parts].join('\n');
}

export function dnsRules(dns: DnsRedirect): string {
  return [
    'table ip berth_dns {}',
    'delete table ip berth_dns',
    'table ip berth_dns {',
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    `    ip daddr 127.0.0.11 udp dport 53 dnat to ${dns.target}:${dns.port}`,
    `    ip daddr 127.0.0.11 tcp dport 53 dnat to ${dns.target}:${dns.port}`,
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    ip saddr 127.0.0.0/8 ip daddr ${dns.target} masquerade`,
    '  }',
    '}',
    '',
  ].join('\n');
}

function hostScript(links: EndpointLink[]): string {
  return links.map((l) => `link set ${l.hostVeth} master ${l.bridge} up\nlink set dev ${l.hostVeth} type bridge_slave hairpin on`).join('\n') + '\n';
}

/**
 * Makes a new network namespace bound at `path` (a file under exec-root/netns), with
 * lo up and the given endpoints. On failure, nothing is left behind.
 */
export async function createSandbox(path: string, links: EndpointLink[], dns: DnsRedirect | null): Promise<void> {
  await fs.writeFile(path, '', { flag: 'wx' });
  try {
    await run('unshare', [`--net=${path}`, 'sh', '-c', insideScript(links, dns, process.pid, true)]);
    if (links.length) await run('ip', ['-batch', '-'], hostScript(links));
  } catch (err) {
    await destroySandbox(path, links.map((l) => l.hostVeth));
    throw err;
  }
}

/** Adds endpoints to an existing namespace (network connect on a running container). */
export async function addLinks(path: string, links: EndpointLink[], dns: DnsRedirect | null): Promise<void> {
  try {
    await run('nsenter', [`--net=${path}`, 'sh', '-c', insideScript(links, dns, process.pid, false)]);
    await run('ip', ['-batch', '-'], hostScript(links));
  } catch (err) {
    await Promise.all(links.map((l) => deleteLink(l.hostVeth).catch(() => undefined)));
    throw err;
  }
}

/** Removes interfaces from a namespace (network disconnect); the veth peers go with them. */
export async function removeLinks(path: string, ifnames: string[]): Promise<void> {
  if (!ifnames.length) return;
  await run('nsenter', [`--net=${path}`, 'sh', '-c', ifnames.map((n) => `ip link del ${sq(n)}`).join(' && ')]);
}

/**
 * Removes the namespace file and the host ends of its veths, in one process: deleting
 * a veth is synchronous, while a namespace's own teardown runs later in the kernel.
 */
export async function destroySandbox(path: string, hostVeths: string[] = []): Promise<void> {
  const script = [
    ...hostVeths.map((v) => `[ ! -e /sys/class/net/${sq(v)} ] || ip link del ${sq(v)} 2>/dev/null`),
    `umount -l ${sq(path)} 2>/dev/null`, // not mounted when creation failed early
    `rm -f ${sq(path)}`,
  ].join('; ');
  await run('sh', ['-c', script]);
}

/** Updates the DNS redirect of a namespace (first user network changed). */
export async function setDnsRedirect(path: string, dns: DnsRedirect | null): Promise<void> {
  const script = dns
    ? `set -e\necho 1 > /proc/sys/net/ipv4/conf/all/route_localnet\nnft -f - <<'EOF'\n${dnsRules(dns)}EOF`
    : `nft -f - <<'EOF'\ntable ip berth_dns {}\ndelete table ip berth_dns\nEOF`;
  await run('nsenter', [`--net=${path}`, 'sh', '-c', script]);
}
