import type { OptionTable, Parsed } from '../argv.js';
import { ClientHandler } from '../handler.js';

const OPTIONS = {
  signal: { kind: 'string', char: 's', description: 'signal to send to the container (default KILL)', value: 'SIGNAL' },
} as const satisfies OptionTable;

export default class Kill extends ClientHandler<typeof OPTIONS> {
  static summary = 'Kill one or more running containers';
  static minArgs = 1;
  static argsUsage = 'CONTAINER [CONTAINER...]';
  static usage = 'kill [OPTIONS] CONTAINER [CONTAINER...]';
  static options = OPTIONS;

  protected exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<number> {
    return this.each(args, async (name) => {
      await this.client.json('POST', `/containers/${encodeURIComponent(name)}/kill`, { query: { signal: opts.signal } });
      return name;
    });
  }
}
