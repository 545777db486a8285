/**
 * The data plane of a swarm overlay network on one node: the network's bridge (as a
 * bridge network has) with a VXLAN device as one of its ports. The VXLAN device
 * learns nothing (nolearning) and floods nothing: every remote endpoint gets a
 * forwarding entry (its MAC -> its node's address) and a permanent neighbour entry
 * (its IP -> its MAC) that the device answers ARP from (proxy). The swarm agent keeps
 * both sets from the store; the MAC of an endpoint is derived from its IP
 * (macFromIp), so an address is all a peer needs to be reached.
 */
import { linkExists } from './links.js';
import { run } from './exec.js';
import { macFromIp } from './defaults.js';

/** Bytes VXLAN over IPv4 adds to a frame. */
export const VXLAN_OVERHEAD = 50;

export interface OverlaySpec { bridge: string; vxlan: string; vni: number; port: number; local: string; mtu: number }

/** One remote endpoint: its overlay address and the underlay address of its node. */
export interface OverlayPeer { ip: string; node: string }

export function vxlanName(networkId: string): string {
  return `vx-${networkId.slice(0, 12)}`;
}

/** Makes the VXLAN port of an (existing) bridge; replaces one made with other parameters. */
export async function ensureVxlan(o: OverlaySpec): Promise<void> {
  if (await linkExists(o.vxlan)) {
    const info = JSON.parse(await run('ip', ['-j', '-d', 'link', 'show', o.vxlan]))[0]?.linkinfo?.info_data ?? {};
    if (info.id === o.vni && info.port === o.port && info.local === o.local) return;
    await run('ip', ['link', 'del', o.vxlan]);
  }
  await run('ip', ['-batch', '-'], [
    `link add ${o.vxlan} mtu ${o.mtu} type vxlan id ${o.vni} dstport ${o.port} local ${o.local} nolearning proxy`,
    `link set ${o.vxlan} master ${o.bridge} up`,
    // a port of the bridge must not flood other nodes with unknown unicast or broadcasts
    `link set dev ${o.vxlan} type bridge_slave learning off`,
  ].join('\n') + '\n');
}

/** Current fdb + neighbour entries of a VXLAN device, as peers. */
async function currentPeers(vxlan: string): Promise<Map<string, OverlayPeer>> {
  const neigh = JSON.parse(await run('ip', ['-j', '-4', 'neigh', 'show', 'dev', vxlan, 'nud', 'permanent'])) as Array<{ dst: string; lladdr?: string }>;
  const fdb = JSON.parse(await run('bridge', ['-j', 'fdb', 'show', 'dev', vxlan])) as Array<{ mac: string; dst?: string }>;
  const nodeOf = new Map(fdb.filter((f) => f.dst).map((f) => [f.mac, f.dst!]));
  const out = new Map<string, OverlayPeer>();
  for (const n of neigh) if (n.lladdr) out.set(n.dst, { ip: n.dst, node: nodeOf.get(n.lladdr) ?? '' });
  return out;
}

/** Brings the VXLAN device's entries to exactly `peers` (one batch per tool). */
export async function syncPeers(vxlan: string, peers: OverlayPeer[]): Promise<void> {
  if (!(await linkExists(vxlan))) return;
  const have = await currentPeers(vxlan);
  const want = new Map(peers.map((p) => [p.ip, p]));
  const ip: string[] = [];
  const fdb: string[] = [];
  for (const [addr, p] of have) {
    if (want.get(addr)?.node === p.node) continue;
    ip.push(`neigh del ${addr} dev ${vxlan}`);
    if (p.node) fdb.push(`fdb del ${macFromIp(addr)} dev ${vxlan} dst ${p.node} self`);
  }
  for (const [addr, p] of want) {
    if (have.get(addr)?.node === p.node) continue;
    fdb.push(`fdb replace ${macFromIp(addr)} dev ${vxlan} dst ${p.node} self permanent`);
    ip.push(`neigh replace ${addr} lladdr ${macFromIp(addr)} dev ${vxlan} nud permanent`);
  }
  // -force: go on after an entry that is already gone (or already there)
  if (fdb.length) await run('bridge', ['-force', '-batch', '-'], fdb.join('\n') + '\n').catch(() => undefined);
  if (ip.length) await run('ip', ['-force', '-batch', '-'], ip.join('\n') + '\n').catch(() => undefined);
}
