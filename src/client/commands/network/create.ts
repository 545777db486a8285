import type { OptionTable, Parsed } from '../../argv.js';
import { ClientHandler } from '../../handler.js';
import { keyValues } from '../../filters.js';

const OPTIONS = {
  driver: { kind: 'string', char: 'd', description: 'driver to manage the network (default bridge)', value: 'DRIVER' },
  subnet: { kind: 'list', description: 'subnet in CIDR format', value: 'CIDR' },
  gateway: { kind: 'list', description: 'IPv4 or IPv6 gateway for the subnet', value: 'IP' },
  'ip-range': { kind: 'list', description: 'allocate container IPs from a sub-range', value: 'CIDR' },
  'aux-address': { kind: 'list', description: 'auxiliary addresses used by the driver', value: 'NAME=IP' },
  internal: { kind: 'bool', description: 'restrict external access to the network' },
  attachable: { kind: 'bool', description: 'enable manual container attachment' },
  ipv6: { kind: 'bool', description: 'enable IPv6 networking' },
  label: { kind: 'list', description: 'metadata on the network', value: 'KEY=VALUE' },
  opt: { kind: 'list', char: 'o', description: 'driver specific options', value: 'KEY=VALUE' },
} as const satisfies OptionTable;

export default class NetworkCreate extends ClientHandler<typeof OPTIONS> {
  static summary = 'Create a network';
  static usage = 'network create [OPTIONS] NETWORK';
  static argsUsage = 'NETWORK';
  static minArgs = 1;
  static maxArgs = 1;
  static options = OPTIONS;

  protected async exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<void> {
    const subnets = opts.subnet ?? [];
    const config = subnets.map((Subnet, i) => ({
      Subnet, ...(opts.gateway?.[i] ? { Gateway: opts.gateway[i] } : {}), ...(opts['ip-range']?.[i] ? { IPRange: opts['ip-range'][i] } : {}),
      ...(i === 0 && opts['aux-address'] ? { AuxiliaryAddresses: keyValues(opts['aux-address']) } : {}),
    }));
    const res = await this.client.json<{ Id: string; Warning?: string }>('POST', '/networks/create', {
      body: {
        Name: args[0], Driver: opts.driver ?? 'bridge', Internal: !!opts.internal, Attachable: !!opts.attachable, EnableIPv6: opts.ipv6,
        IPAM: { Driver: 'default', Config: config }, Options: keyValues(opts.opt), Labels: keyValues(opts.label),
      },
    });
    if (res.Warning) this.err(`WARNING: ${res.Warning}\n`);
    this.out(res.Id + '\n');
  }
}
