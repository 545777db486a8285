import type { OptionTable, Parsed } from '../argv.js';
import { ClientHandler } from '../handler.js';

const OPTIONS = {
  time: { kind: 'int', char: 't', description: 'seconds to wait before killing the container', value: 'SECONDS' },
  signal: { kind: 'string', char: 's', description: 'signal to send to the container', value: 'SIGNAL' },
} as const satisfies OptionTable;

export default class Stop extends ClientHandler<typeof OPTIONS> {
  static summary = 'Stop one or more running containers';
  static minArgs = 1;
  static argsUsage = 'CONTAINER [CONTAINER...]';
  static usage = 'stop [OPTIONS] CONTAINER [CONTAINER...]';
  static options = OPTIONS;

  protected exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<number> {
    return this.each(args, async (name) => {
      await this.client.json('POST', `/containers/${encodeURIComponent(name)}/stop`, { query: { t: opts.time, signal: opts.signal } });
      return name;
    });
  }
}
