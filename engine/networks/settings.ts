import type { EndpointRecord, SandboxRecord } from './index.js';
import type { Network } from './registry.js';

/** docker's NetworkSettings of a container, from its sandbox. */
export function networkSettings(
  sb: SandboxRecord,
  networkOf: (id: string) => Network | undefined,
  special: Network,
  ports: Record<string, unknown>,
): Record<string, unknown> {
  const networks: Record<string, unknown> = {};
  let top: EndpointRecord | undefined;
  for (const ep of sb.endpoints) {
    const n = networkOf(ep.networkId);
    if (!n) continue;
    if (n.isDefault) top = ep;
    networks[n.record.Name] = endpointSettings(sb, ep, n);
  }
  if (sb.mode === 'host' || sb.mode === 'none') {
    networks[special.record.Name] = {
      ...emptyEndpoint(), NetworkID: special.record.Id, EndpointID: sb.sandboxId,
    };
  }
  return {
    Bridge: '',
    SandboxID: sb.mode === 'host' ? '' : sb.sandboxId,
    SandboxKey: sb.netnsPath ?? '',
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    Ports: ports,
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: top?.endpointId ?? '',
    Gateway: top?.gateway ?? '',
    GlobalIPv6Address: top?.ip6 ?? '',
    GlobalIPv6PrefixLen: top?.prefix6 ?? 0,
    IPAddress: top?.ip ?? '',
    IPPrefixLen: top?.prefix ?? 0,
    IPv6Gateway: top?.gateway6 ?? '',
    MacAddress: top?.mac ?? '',
    Networks: networks,
  };
}

function emptyEndpoint() {
  return {
    IPAMConfig: null, Links: null, Aliases: null, MacAddress: '', DriverOpts: null, NetworkID: '', EndpointID: '',
    Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null,
  };
}

function endpointSettings(sb: SandboxRecord, ep: EndpointRecord, n: Network) {
  return {
    ...emptyEndpoint(),
    IPAMConfig: ep.staticIp || ep.staticIp6 || ep.linkLocalIps?.length
      ? {
        ...(ep.staticIp ? { IPv4Address: ep.staticIp } : {}), ...(ep.staticIp6 ? { IPv6Address: ep.staticIp6 } : {}),
        ...(ep.linkLocalIps?.length ? { LinkLocalIPs: ep.linkLocalIps } : {}),
      }
      : null,
    DriverOpts: ep.driverOpts ?? null,
    Links: ep.links.length ? ep.links : null,
    Aliases: ep.aliases.length ? ep.aliases : null,
    MacAddress: ep.mac,
    NetworkID: n.record.Id,
    EndpointID: ep.endpointId,
    Gateway: ep.gateway,
    IPAddress: ep.ip,
    IPPrefixLen: ep.prefix,
    IPv6Gateway: ep.gateway6 ?? '',
    GlobalIPv6Address: ep.ip6 ?? '',
    GlobalIPv6PrefixLen: ep.prefix6 ?? 0,
    DNSNames: n.isDefault ? null : [sb.name, ...ep.aliases, sb.containerId.slice(0, 12)],
  };
}
