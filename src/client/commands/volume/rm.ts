import type { OptionTable, Parsed } from '../../argv.js';
import { ClientHandler } from '../../handler.js';

const OPTIONS = {
  force: { kind: 'bool', char: 'f', description: 'force the removal of one or more volumes' },
} as const satisfies OptionTable;

export default class VolumeRm extends ClientHandler<typeof OPTIONS> {
  static summary = 'Remove one or more volumes';
  static usage = 'volume rm [OPTIONS] VOLUME [VOLUME...]';
  static argsUsage = 'VOLUME [VOLUME...]';
  static minArgs = 1;
  static options = OPTIONS;

  protected exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<number> {
    return this.each(args, async (name) => {
      await this.client.json('DELETE', `/volumes/${encodeURIComponent(name)}`, { query: { force: opts.force } });
      return name;
    });
  }
}
