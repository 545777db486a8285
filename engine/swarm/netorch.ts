/**
 * The leader's share of swarm networking, called from the orchestrator's pass:
 * a service's endpoint (VIPs on its networks, published ports), its new tasks'
 * network attachments (one address per network), and the sweep of addresses whose
 * owner is gone.
 */
import { InvalidArgumentError } from '../errors.js';
import { parseCidr } from '../networks/cidr.js';
import { type IpamEntry, type SwarmNetwork, allocateIp, listIpam, networkTargets, subnetOf, usedOn } from './netalloc.js';
import { nowIso } from './spec.js';
import type { Obj, Store } from './store.js';

const PORT_MIN = 30000;
const PORT_MAX = 32767;

export interface NetState {
  networks: Map<string, Obj<SwarmNetwork>>;
  ingress?: Obj<SwarmNetwork>;
  ipam: IpamEntry[];
}

export async function readNetState(store: Store): Promise<NetState> {
  const [nets, ipam] = await Promise.all([store.list<SwarmNetwork>('networks'), listIpam(store)]);
  return { networks: new Map(nets.map((n) => [n.id, n])), ingress: nets.find((n) => n.value.Spec.Ingress), ipam };
}

const ingressPorts = (spec: any) => (spec.EndpointSpec?.Ports ?? []).filter((p: any) => (p.PublishMode ?? 'ingress') === 'ingress');

/** The networks a service's tasks join, in order: ingress first when a port is published through it. */
export function serviceNetworks(spec: any, st: NetState): string[] {
  const ids = networkTargets(spec).filter((id) => st.networks.has(id));
  return ingressPorts(spec).length && st.ingress ? [st.ingress.id, ...ids] : ids;
}

export function validateEndpointSpec(spec: any): void {
  const ep = spec.EndpointSpec ?? {};
  if (ep.Mode && ep.Mode !== 'vip' && ep.Mode !== 'dnsrr') throw new InvalidArgumentError(`invalid endpoint mode ${ep.Mode}: use vip or dnsrr`);
  for (const p of ep.Ports ?? []) {
    if (!Number.isInteger(p.TargetPort) || p.TargetPort < 1 || p.TargetPort > 65535) throw new InvalidArgumentError(`invalid target port ${p.TargetPort}: 1 to 65535`);
    if (p.PublishedPort !== undefined && p.PublishedPort !== 0 && (!Number.isInteger(p.PublishedPort) || p.PublishedPort < 1 || p.PublishedPort > 65535)) throw new InvalidArgumentError(`invalid published port ${p.PublishedPort}: 1 to 65535`);
    if (p.Protocol && !['tcp', 'udp'].includes(p.Protocol)) throw new InvalidArgumentError(`invalid protocol ${p.Protocol}: tcp or udp (sctp is not supported by berthd)`);
    if (p.PublishMode && !['ingress', 'host'].includes(p.PublishMode)) throw new InvalidArgumentError(`invalid publish mode ${p.PublishMode}: ingress or host`);
    if (ep.Mode === 'dnsrr' && (p.PublishMode ?? 'ingress') === 'ingress') throw new InvalidArgumentError('port published with ingress mode can\'t be used with dnsrr mode');
  }
}

/** Checks that no other service holds the same published ingress port. */
export function checkPortConflicts(spec: any, serviceId: string | undefined, services: Obj[]): void {
  for (const p of ingressPorts(spec)) {
    if (!p.PublishedPort) continue;
    const proto = p.Protocol ?? 'tcp';
    const other = services.find((s) => s.id !== serviceId && (s.value.Endpoint?.Ports ?? []).some((q: any) => q.PublishMode === 'ingress' && q.PublishedPort === p.PublishedPort && q.Protocol === proto));
    if (other) throw new InvalidArgumentError(`port '${p.PublishedPort}' is already in use by service '${other.value.Spec.Name}' (${other.id}) as an ingress port`);
  }
}

/**
 * The service's Endpoint as it should be: published ports (an ingress port without a
 * number gets one of 30000-32767) and, in vip mode, one VIP per network. Writes the
 * service when it changed; true then (the pass moves on to the next service).
 */
export async function ensureEndpoint(store: Store, svc: Obj<any>, services: Obj[], st: NetState): Promise<boolean> {
  const spec = svc.value.Spec;
  const cur = svc.value.Endpoint ?? {};
  const taken = new Set(services.filter((s) => s.id !== svc.id).flatMap((s) => (s.value.Endpoint?.Ports ?? []).map((p: any) => p.PublishedPort)));
  const ports = (spec.EndpointSpec?.Ports ?? []).map((p: any) => {
    const mode = p.PublishMode ?? 'ingress';
    const proto = p.Protocol ?? 'tcp';
    let published = p.PublishedPort || 0;
    if (!published && mode === 'ingress') {
      published = (cur.Ports ?? []).find((q: any) => q.TargetPort === p.TargetPort && q.Protocol === proto && q.PublishMode === mode)?.PublishedPort ?? 0;
      for (let port = PORT_MIN; !published && port <= PORT_MAX; port++) if (!taken.has(port)) published = port;
    }
    taken.add(published);
    return { Protocol: proto, TargetPort: p.TargetPort, PublishedPort: published, PublishMode: mode, ...(p.Name ? { Name: p.Name } : {}) };
  });
  const vips: Array<{ NetworkID: string; Addr: string }> = [];
  if ((spec.EndpointSpec?.Mode ?? 'vip') === 'vip') {
    for (const netId of serviceNetworks(spec, st)) {
      const have = (cur.VirtualIPs ?? []).find((v: any) => v.NetworkID === netId && st.ipam.some((e) => e.netId === netId && `${e.ip}` === v.Addr.split('/')[0] && e.owner === `vip:${svc.id}`));
      if (have) {
        vips.push(have);
        continue;
      }
      const net = st.networks.get(netId)!;
      const ip = await allocateIp(store, net.value, `vip:${svc.id}`, usedOn(st.ipam, netId));
      st.ipam.push({ netId, ip, owner: `vip:${svc.id}`, version: 0 });
      vips.push({ NetworkID: netId, Addr: `${ip}/${parseCidr(subnetOf(net.value)).prefix}` });
    }
  }
  const next = { Spec: spec.EndpointSpec ?? { Mode: 'vip' }, ...(ports.length ? { Ports: ports } : {}), ...(vips.length ? { VirtualIPs: vips } : {}) };
  if (JSON.stringify(next) === JSON.stringify(cur)) return false;
  await store.update('services', svc.id, { ...svc.value, Endpoint: next, UpdatedAt: nowIso() }, svc.version);
  return true;
}

/** A new task's NetworksAttachments: one address on each of the service's networks. */
export async function attachmentsFor(store: Store, taskId: string, spec: any, st: NetState): Promise<any[]> {
  const out = [];
  for (const netId of serviceNetworks(spec, st)) {
    const net = st.networks.get(netId)!;
    const ip = await allocateIp(store, net.value, `task:${taskId}`, usedOn(st.ipam, netId));
    st.ipam.push({ netId, ip, owner: `task:${taskId}`, version: 0 });
    const { VNI: _v, ...shown } = net.value;
    out.push({ Network: { ...shown, ID: netId }, Addresses: [`${ip}/${parseCidr(subnetOf(net.value)).prefix}`] });
  }
  return out;
}

/**
 * Frees addresses whose owner is gone. `st.ipam` must have been read before `tasks`,
 * `services` and `nodes`, so an address taken for a task not yet written is not seen.
 */
export async function sweepIpam(store: Store, st: NetState, tasks: Obj[], services: Obj[], nodes: Obj[]): Promise<void> {
  const taskIds = new Set(tasks.map((t) => t.id));
  const nodeIds = new Set(nodes.map((n) => n.id));
  const vipOf = new Map(services.map((s) => [s.id, new Set((s.value.Endpoint?.VirtualIPs ?? []).map((v: any) => `${v.NetworkID}:${v.Addr.split('/')[0]}`))]));
  for (const e of st.ipam) {
    const [kind, id] = e.owner.split(':');
    const gone = !st.networks.has(e.netId)
      || (kind === 'task' && !taskIds.has(id))
      || (kind === 'vip' && !vipOf.get(id)?.has(`${e.netId}:${e.ip}`) && !justMade(e))
      || ((kind === 'node' || kind === 'ctr') && !nodeIds.has(id));
    if (gone) await store.delete('ipam', `${e.netId}:${e.ip}`, e.version);
  }
}

// a VIP is taken before its service is written; version 0 marks one taken in this pass
const justMade = (e: IpamEntry) => e.version === 0;
