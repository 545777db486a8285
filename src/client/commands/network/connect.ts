import type { OptionTable, Parsed } from '../../argv.js';
import { ClientHandler } from '../../handler.js';

const OPTIONS = {
  ip: { kind: 'string', description: 'IPv4 address', value: 'IP' },
  ip6: { kind: 'string', description: 'IPv6 address', value: 'IP' },
  alias: { kind: 'list', description: 'network-scoped alias for the container', value: 'NAME' },
  link: { kind: 'list', description: 'link to another container', value: 'NAME:ALIAS' },
  'driver-opt': { kind: 'list', description: 'driver options for the network', value: 'KEY=VALUE' },
} as const satisfies OptionTable;

export default class NetworkConnect extends ClientHandler<typeof OPTIONS> {
  static summary = 'Connect a container to a network';
  static usage = 'network connect [OPTIONS] NETWORK CONTAINER';
  static argsUsage = 'NETWORK CONTAINER';
  static minArgs = 2;
  static maxArgs = 2;
  static options = OPTIONS;

  protected async exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<void> {
    const ipam = opts.ip || opts.ip6 ? { IPv4Address: opts.ip, IPv6Address: opts.ip6 } : undefined;
    await this.client.json('POST', `/networks/${encodeURIComponent(args[0])}/connect`, {
      body: { Container: args[1], EndpointConfig: { IPAMConfig: ipam, Aliases: opts.alias, Links: opts.link } },
    });
  }
}
