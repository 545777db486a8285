import type { OptionTable, Parsed } from '../../argv.js';
import { ClientHandler } from '../../handler.js';

const OPTIONS = {
  force: { kind: 'bool', char: 'f', description: 'force the container to disconnect from a network' },
} as const satisfies OptionTable;

export default class NetworkDisconnect extends ClientHandler<typeof OPTIONS> {
  static summary = 'Disconnect a container from a network';
  static usage = 'network disconnect [OPTIONS] NETWORK CONTAINER';
  static argsUsage = 'NETWORK CONTAINER';
  static minArgs = 2;
  static maxArgs = 2;
  static options = OPTIONS;

  protected async exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<void> {
    await this.client.json('POST', `/networks/${encodeURIComponent(args[0])}/disconnect`, { body: { Container: args[1], Force: !!opts.force } });
  }
}
