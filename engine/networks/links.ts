import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { run } from './exec.js';
import { spawner } from '../runtime/spawner.js';

/** A shell-quoted word. */
const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export interface BridgeSpec { ifname: string; gatewayCidr: string; mtu: number; gateway6Cidr?: string }

/** Creates the bridge when missing and gives it the gateway address; idempotent (used by restore). */
export async function ensureBridge(b: BridgeSpec): Promise<void> {
  const exists = await linkExists(b.ifname);
  const cmds = [
    ...(exists ? [] : [`link add ${b.ifname} type bridge`]),
    `addr replace ${b.gatewayCidr} dev ${b.ifname}`,
    ...(b.gateway6Cidr ? [`addr replace ${b.gateway6Cidr} dev ${b.ifname} nodad`] : []),
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

/** Every IPv6 destination the host routes (link-local, multicast and loopback left out). */
export async function hostRoutes6(): Promise<Array<{ dst: string; dev: string }>> {
  const routes = JSON.parse(await run('ip', ['-j', '-6', 'route', 'show', 'table', 'all'])) as Array<{ dst: string; dev?: string; type?: string }>;
  return routes
    .filter((r) => r.dst && r.dst !== 'default' && (r.type ?? 'unicast') === 'unicast' && !/^(fe80|ff|::1)/i.test(r.dst))
    .map((r) => ({ dst: r.dst.includes('/') ? r.dst : `${r.dst}/128`, dev: r.dev ?? '' }));
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
  address6Cidr?: string;   // fd00:1::2/64 on networks with IPv6; without, the interface has IPv6 disabled
  gateway6?: string | null;
  linkLocal?: string[];    // --link-local-ip, with their prefix (/16, /64)
}

const DISABLE_V6_DEFAULT = '[ ! -e /proc/sys/net/ipv6 ] || echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6';

/**
 * IPv6 of the interfaces that have it. Interfaces are made with IPv6 disabled (the
 * namespace's default, as dockerd disables it on endpoints without IPv6), so these
 * enable it first; addresses skip DAD as dockerd's do.
 */
function insideV6(links: EndpointLink[]): string[] {
  const v6 = links.filter((l) => l.address6Cidr || l.linkLocal?.some((a) => a.includes(':')));
  if (!v6.length) return [];
  const ip: string[] = [];
  for (const l of v6) {
    if (l.address6Cidr) ip.push(`addr add ${l.address6Cidr} dev ${l.ifname} nodad`);
    for (const a of l.linkLocal ?? []) if (a.includes(':')) ip.push(`addr add ${a} dev ${l.ifname} nodad`);
    if (l.gateway6) ip.push(`route add default via ${l.gateway6} dev ${l.ifname}`);
  }
  return [...v6.map((l) => `echo 0 > /proc/sys/net/ipv6/conf/${l.ifname}/disable_ipv6`), `ip -batch - <<'EOF6'`, ...ip, 'EOF6'];
}

/** Extra setup inside the namespace: the embedded DNS redirect of user networks. */
export interface DnsRedirect { target: string; port: number }

/**
 * The shell script run inside the container's namespace: veth creation (the peer goes
 * straight to the engine's namespace, named by its pid), addresses, routes, and the
 * 127.0.0.11:53 redirect to the network's resolver.
 */
function insideIp(links: EndpointLink[], enginePid: number, withLo: boolean, premade: boolean): string[] {
  const ip: string[] = withLo ? ['link set lo up'] : [];
  links.forEach((l, i) => {
    if (i === 0 && premade) ip.push(`link set ${l.ifname} mtu ${l.mtu} address ${l.mac}`);
    else ip.push(`link add ${l.ifname} mtu ${l.mtu} address ${l.mac} type veth peer name ${l.hostVeth} mtu ${l.mtu} netns ${enginePid}`);
    ip.push(`addr add ${l.addressCidr} dev ${l.ifname}`);
    for (const a of l.linkLocal ?? []) if (!a.includes(':')) ip.push(`addr add ${a} dev ${l.ifname}`);
    ip.push(`link set ${l.ifname} up`);
    if (l.gateway) ip.push(`route add default via ${l.gateway} dev ${l.ifname}`);
  });
  return ip;
}

function dnsSetup(dns: DnsRedirect): string {
  // The resolver listens on the gateway in the engine's namespace; packets from
  // 127.0.0.1 may only leave through eth0 with route_localnet in this namespace.
  return `echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet\nnft -f - <<'EOF'\n${dnsRules(dns)}EOF`;
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
  return links.map((l) => `link set ${l.hostVeth} mtu ${l.mtu} master ${l.bridge} up\nlink set dev ${l.hostVeth} type bridge_slave hairpin on`).join('\n') + '\n';
}

/**
 * The whole setup as one shell script, so a container's network costs one process
 * spawn from the engine: the namespace's own part (ip alone when it can, as each
 * process counts on the path of `docker run`), then the host ends join their bridges.
 * `enter` runs a command in the namespace (nsenter, or unshare making it).
 */
function setupScript(enter: string, ip: string[], dns: DnsRedirect | null, inside: EndpointLink[], links: EndpointLink[], pre: string[] = []): string {
  const lines = ['set -e'];
  const post = insideV6(inside);
  if (dns || pre.length || post.length) {
    lines.push(`${enter} sh -s <<'BERTH_NS'`, 'set -e', ...pre, ...(ip.length ? [`ip -batch - <<'EOF'`, ...ip, 'EOF'] : []), ...post, ...(dns ? [dnsSetup(dns)] : []), 'BERTH_NS');
  } else if (ip.length) lines.push(`${enter} ip -batch - <<'BERTH_NS'`, ...ip, 'BERTH_NS');
  else lines.push(`${enter} true`);
  if (links.length) lines.push(`ip -batch - <<'BERTH_HOST'`, hostScript(links) + 'BERTH_HOST');
  return lines.join('\n') + '\n';
}

/**
 * Makes the sandbox of a container: a namespace from the pool (or a new one bound at
 * `path`) with lo up and the given endpoints. A pooled namespace for a bridge network
 * comes with its first veth pair made; the host end's name is then the pool's.
 * Returns the namespace file and the host ends, in `links` order. On failure, nothing
 * is left behind.
 */
export async function createSandbox(path: string, links: EndpointLink[], dns: DnsRedirect | null, pool?: NetnsPool): Promise<{ netnsPath: string; hostVeths: string[] }> {
  const pooled = pool?.take(links.length ? 'veth' : 'plain');
  const nsPath = pooled?.path ?? path;
  if (pooled && !links.length && !dns) return { netnsPath: nsPath, hostVeths: [] }; // --network none: ready as made
  const helper = spawner();
  if (!pooled && !links.length && !dns && helper) {
    await helper.netns(nsPath).catch(async (err) => { await destroySandbox(nsPath).catch(() => undefined); throw err; });
    return { netnsPath: nsPath, hostVeths: [] };
  }
  const premade = Boolean(pooled?.hostVeth && links.length);
  const all = premade ? [{ ...links[0], hostVeth: pooled!.hostVeth! }, ...links.slice(1)] : links;
  // the pool already put the host end on the default bridge: nothing to do on the host
  const onHost = premade && pooled!.bridge === all[0].bridge && pooled!.mtu === all[0].mtu ? all.slice(1) : all;
  const ip = insideIp(all, process.pid, !pooled, premade);
  try {
    if (pooled && !dns && !onHost.length && !insideV6(all).length) await run('nsenter', [`--net=${nsPath}`, 'ip', '-batch', '-'], ip.join('\n') + '\n');
    else {
      const enter = pooled ? `nsenter --net=${sq(nsPath)}` : `: > ${sq(nsPath)}; unshare --net=${sq(nsPath)}`;
      await run('sh', ['-c', setupScript(enter, ip, dns, all, onHost, pooled ? [] : [DISABLE_V6_DEFAULT])]);
    }
    return { netnsPath: nsPath, hostVeths: all.map((l) => l.hostVeth) };
  } catch (err) {
    await destroySandbox(nsPath, all.map((l) => l.hostVeth));
    throw err;
  }
}

/** Adds endpoints to an existing namespace (network connect on a running container). */
export async function addLinks(path: string, links: EndpointLink[], dns: DnsRedirect | null): Promise<void> {
  try {
    await run('sh', ['-c', setupScript(`nsenter --net=${sq(path)}`, insideIp(links, process.pid, false, false), dns, links, links)]);
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
 * Unbinds and removes the namespace file. Its veths go when the kernel frees the
 * namespace, asynchronously: deleting a veth ourselves waits for an RCU grace period
 * (tens of ms). `hostVeths` are deleted explicitly only after a failed setup, when a
 * peer may already sit in the engine's namespace.
 */
export async function destroySandbox(path: string, hostVeths: string[] = []): Promise<void> {
  if (!hostVeths.length) {
    const helper = spawner();
    if (helper) return helper.netnsRemove(path);
    await run('umount', ['-l', path]).catch(() => undefined); // not mounted when creation failed early
    await fs.rm(path, { force: true });
    return;
  }
  const script = [
    ...hostVeths.map((v) => `[ ! -e /sys/class/net/${sq(v)} ] || ip link del ${sq(v)} 2>/dev/null`),
    `umount -l ${sq(path)} 2>/dev/null`, // not mounted when creation failed early
    `rm -f ${sq(path)}`,
  ].join('; ');
  await run('sh', ['-c', script]);
}

/**
 * A namespace made ahead; `hostVeth` names the host end of its eth0 pair when it has
 * one, already a port of `bridge` (the default bridge) with `mtu`.
 */
export interface PooledNetns { path: string; hostVeth?: string; bridge?: string; mtu?: number }
type PoolKind = 'plain' | 'veth';

/**
 * Namespaces made ahead of time, because making a namespace and a veth pair costs the
 * kernel milliseconds on the path of `docker run`: 'plain' ones (lo up) for
 * --network none, 'veth' ones with eth0 made and its peer waiting, down and unattached,
 * in the engine's namespace. Refilled in the background after each take.
 */
export class NetnsPool {
  private readonly ready: Record<PoolKind, PooledNetns[]> = { plain: [], veth: [] };
  private filling: Promise<void> | null = null;
  private closed = false;

  private port: { bridge: string; mtu: number } | null = null;

  constructor(private readonly dir: string, private readonly sizes: Record<PoolKind, number> = { plain: 1, veth: 2 }) {}

  /** The bridge that pooled veths join ahead (the default bridge). */
  joinBridge(bridge: string, mtu: number): void {
    this.port = { bridge, mtu };
  }

  take(kind: PoolKind): PooledNetns | undefined {
    const entry = this.ready[kind].shift();
    void this.refill();
    return entry;
  }

  refill(): Promise<void> {
    if (this.filling || this.closed) return this.filling ?? Promise.resolve();
    const made: Array<[PoolKind, PooledNetns]> = [];
    const lines = ['set -e'];
    const host: string[] = [];
    const port = this.port;
    // Plain namespaces (lo up) are the helper's own work, without a process each.
    const helper = spawner();
    const plain: Array<Promise<PooledNetns | undefined>> = [];
    for (let i = this.ready.plain.length; helper && i < this.sizes.plain; i++) {
      const entry: PooledNetns = { path: join(this.dir, `pool-${randomBytes(6).toString('hex')}`) };
      plain.push(helper.netns(entry.path).then(() => entry, () => destroySandbox(entry.path).then(() => undefined, () => undefined)));
    }
    for (const kind of helper ? ['veth'] as const : ['veth', 'plain'] as const) {
      for (let i = this.ready[kind].length; i < this.sizes[kind]; i++) {
        const tag = randomBytes(6).toString('hex');
        const entry: PooledNetns = { path: join(this.dir, `pool-${tag}`), ...(kind === 'veth' ? { hostVeth: `veth${tag.slice(0, 7)}`, ...(port ?? {}) } : {}) };
        const ip = ['link set lo up', ...(entry.hostVeth ? [`link add eth0 type veth peer name ${entry.hostVeth} netns ${process.pid}`] : [])];
        lines.push(`: > ${sq(entry.path)}; unshare --net=${sq(entry.path)} sh -c ${sq(`${DISABLE_V6_DEFAULT}; exec ip -batch -`)} <<'EOF'`, ...ip, 'EOF');
        if (entry.hostVeth && port) host.push(`link set ${entry.hostVeth} mtu ${port.mtu} master ${port.bridge} up`, `link set dev ${entry.hostVeth} type bridge_slave hairpin on`);
        made.push([kind, entry]);
      }
    }
    if (!made.length && !plain.length) return Promise.resolve();
    if (host.length) lines.push(`ip -batch - <<'EOF'`, ...host, 'EOF');
    const discard = () => Promise.all(made.map(([, e]) => destroySandbox(e.path, e.hostVeth ? [e.hostVeth] : []).catch(() => undefined))).then(() => undefined);
    const scripted = !made.length ? Promise.resolve() : run('sh', ['-c', lines.join('\n') + '\n']).then(
      () => { if (this.closed) return discard(); for (const [kind, e] of made) this.ready[kind].push(e); },
      discard, // a pool miss only costs speed
    );
    const helped = Promise.all(plain).then(async (entries) => {
      const ok = entries.filter((e): e is PooledNetns => !!e);
      if (this.closed) await Promise.all(ok.map((e) => destroySandbox(e.path).catch(() => undefined)));
      else this.ready.plain.push(...ok);
    });
    this.filling = Promise.all([scripted, helped]).then(() => undefined).finally(() => { this.filling = null; });
    return this.filling;
  }

  /** Removes what is left, host ends of veths included (not left for the kernel to reap later). */
  async close(): Promise<void> {
    this.closed = true;
    await this.filling;
    const left = [...this.ready.plain.splice(0), ...this.ready.veth.splice(0)];
    await Promise.all(left.map((e) => destroySandbox(e.path, e.hostVeth ? [e.hostVeth] : [])));
  }

  /** Pool files a previous engine left unused; `inUse` are those handed out to sandboxes. */
  static async sweep(dir: string, inUse: Set<string>): Promise<void> {
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    await Promise.all(names.filter((n) => n.startsWith('pool-') && !inUse.has(join(dir, n))).map((n) => destroySandbox(join(dir, n))));
  }
}

/** Updates the DNS redirect of a namespace (first user network changed). */
export async function setDnsRedirect(path: string, dns: DnsRedirect | null): Promise<void> {
  const script = dns ? `set -e\n${dnsSetup(dns)}\n` : `nft -f - <<'EOF'\ntable ip berth_dns {}\ndelete table ip berth_dns\nEOF\n`;
  await run('nsenter', [`--net=${path}`, 'sh', '-c', script]);
}
