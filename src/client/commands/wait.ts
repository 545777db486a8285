import type { OptionTable, Parsed } from '../argv.js';
import { ClientHandler } from '../handler.js';

const OPTIONS = {} as const satisfies OptionTable;

export default class Wait extends ClientHandler<typeof OPTIONS> {
  static summary = 'Block until one or more containers stop, then print their exit codes';
  static minArgs = 1;
  static argsUsage = 'CONTAINER [CONTAINER...]';
  static usage = 'wait [OPTIONS] CONTAINER [CONTAINER...]';
  static options = OPTIONS;

  protected exec({ args }: Parsed<typeof OPTIONS>): Promise<number> {
    return this.each(args, async (name) => {
      const r = await this.client.json<{ StatusCode: number }>('POST', `/containers/${encodeURIComponent(name)}/wait`);
      return String(r.StatusCode);
    });
  }
}
