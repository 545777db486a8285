import type { OptionTable, Parsed } from '../../argv.js';
import { ClientHandler } from '../../handler.js';
import { EngineApiError } from '../../engine.js';

const OPTIONS = {
  force: { kind: 'bool', char: 'f', description: 'do not error if the network does not exist' },
} as const satisfies OptionTable;

export default class NetworkRm extends ClientHandler<typeof OPTIONS> {
  static summary = 'Remove one or more networks';
  static usage = 'network rm [OPTIONS] NETWORK [NETWORK...]';
  static argsUsage = 'NETWORK [NETWORK...]';
  static minArgs = 1;
  static options = OPTIONS;

  protected exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<number> {
    return this.each(args, async (name) => {
      try {
        await this.client.json('DELETE', `/networks/${encodeURIComponent(name)}`);
      } catch (err) {
        if (opts.force && err instanceof EngineApiError && err.status === 404) return;
        throw err;
      }
      return name;
    });
  }
}
