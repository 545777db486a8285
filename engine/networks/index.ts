/**
 * Networks: docker's bridge driver on the real kernel.
 *
 * - A network is a Linux bridge with a gateway address, an IPAM pool and rules in the
 *   daemon's own nft table (masquerade, isolation, internal). Stored as
 *   data-root/networks/<id>.json.
 * - A sandbox is one container's network namespace, bound at a file of exec-root/netns
 *   (made ahead by a small pool, see links.ts), with one veth endpoint per network.
 *   Stored as exec-root/sandboxes/<container id>.json, so a restarted engine rebuilds
 *   what running containers need.
 * - Published ports: a userland proxy holds each host port (and serves loopback), nft
 *   DNAT serves every other address, including hairpin from containers.
 * - Name resolution on user networks: one embedded resolver per network (resolver.ts).
 */
import type { PortBinding } from './ports.js';
import type { IpamConfig } from './ipam.js';

export const DRIVER_OPT_BRIDGE = 'com.docker.network.bridge.name';
export const DRIVER_OPT_MTU = 'com.docker.network.driver.mtu';
export const DRIVER_OPT_DEFAULT_BRIDGE = 'com.docker.network.bridge.default_bridge';

/** A network as docker's API shows it (minus Containers, computed on inspect). */
export interface NetworkRecord {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local' | 'swarm';
  Driver: 'bridge' | 'host' | 'null' | 'overlay';
  EnableIPv6: boolean;
  IPAM: { Driver: 'default'; Options: Record<string, string> | null; Config: IpamConfig[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Options: Record<string, string>;
  Labels: Record<string, string>;
  /** The bridge interface the engine chose when Options has none (not shown by the API). */
  bridgeName?: string;
  /** Subnets the user gave without a gateway: dockerd shows no Gateway for them (the engine's choice is kept here). */
  impliedGateways?: string[];
  /** A swarm overlay's VXLAN parameters on this node (not shown by the API). */
  overlay?: { vni: number; port: number; local: string };
}

/** What swarm mode lends the network service (engine/swarm/netagent.ts). */
export interface SwarmNetworking {
  /** Makes a swarm network usable here when it is attachable; false when there is none by that name. */
  attachable(ref: string): Promise<boolean>;
  /** An address for a plain container on an overlay, reserved in the swarm store. */
  allocate(networkId: string, containerId: string): Promise<string>;
  release(networkId: string, ip: string): Promise<void>;
  /** Names the swarm answers on an overlay: services (VIP or task IPs), tasks.NAME, aliases. */
  resolve(networkId: string, name: string): string[] | null;
}

/** docker's EndpointSettings (request side: the fields berthd reads). */
export interface EndpointRequest {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] | null } | null;
  Aliases?: string[] | null;
  Links?: string[] | null;
  MacAddress?: string;
  DriverOpts?: Record<string, string> | null;
}

export interface EndpointRecord {
  networkId: string;
  endpointId: string;
  ifname: string;
  hostVeth: string;
  ip: string;
  prefix: number;
  gateway: string;
  mac: string;
  staticIp: string | null;
  aliases: string[];
  links: string[];
  /** As given at create/connect, shown back in inspect. */
  driverOpts?: Record<string, string> | null;
  linkLocalIps?: string[];
  /** On networks with EnableIPv6. */
  ip6?: string;
  prefix6?: number;
  gateway6?: string;
  staticIp6?: string | null;
  /** The address came from the swarm store (a plain container on an attachable overlay). */
  swarmOwned?: boolean;
}

export interface PublishedPort extends PortBinding { containerIp: string }

export type SandboxMode = 'bridge' | 'none' | 'host' | 'container';

export interface SandboxRecord {
  containerId: string;
  name: string;
  hostname: string;
  domainname: string;
  mode: SandboxMode;
  /** The namespace file; null for host; the other container's for container:ID. */
  netnsPath: string | null;
  sandboxId: string;
  sharedWith: string | null;
  endpoints: EndpointRecord[];
  ports: PublishedPort[];
  exposed: Record<string, unknown>;
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  extraHosts: string[];
  links: string[];
}

/** What containers pass to `engine.networking.attach`. */
export interface AttachRequest {
  id: string;
  name: string;
  hostname: string;
  domainname: string;
  config: { ExposedPorts?: Record<string, unknown> | null; MacAddress?: string; Hostname?: string; Domainname?: string } & Record<string, any>;
  hostConfig: {
    NetworkMode?: string;
    PortBindings?: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> | null;
    PublishAllPorts?: boolean;
    Dns?: string[] | null;
    DnsSearch?: string[] | null;
    DnsOptions?: string[] | null;
    ExtraHosts?: string[] | null;
    Links?: string[] | null;
  } & Record<string, any>;
  networkingConfig?: { EndpointsConfig?: Record<string, EndpointRequest | null> | null } | null;
}

export interface AttachResult {
  /** null = host network. */
  netnsPath: string | null;
  /** docker's NetworkSettings for inspect. */
  settings: Record<string, unknown>;
  /** /etc/hosts content. */
  hosts: string;
  /** /etc/resolv.conf content. */
  resolvConf: string;
  /** /etc/hostname content. */
  hostname: string;
}

/** The contract with containers (engine.networking). */
export interface Networking {
  attach(req: AttachRequest): Promise<AttachResult>;
  detach(containerId: string): Promise<void>;
  restore(containerId: string): Promise<AttachResult>;
  /** Current NetworkSettings (after connect/disconnect); null when not attached. */
  settings(containerId: string): Record<string, unknown> | null;
}
