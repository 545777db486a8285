import type { OptionTable, Parsed } from '../argv.js';
import { ClientHandler } from '../handler.js';
import { encodeImage } from '../images.js';

const OPTIONS = {
  force: { kind: 'bool', char: 'f', description: 'force removal of the image' },
  'no-prune': { kind: 'bool', description: 'do not delete untagged parents' },
} as const satisfies OptionTable;

export default class Rmi extends ClientHandler<typeof OPTIONS> {
  static summary = 'Remove one or more images';
  static minArgs = 1;
  static argsUsage = 'IMAGE [IMAGE...]';
  static usage = 'rmi [OPTIONS] IMAGE [IMAGE...]';
  static options = OPTIONS;

  protected exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<number> {
    return this.each(args, async (name) => {
      const items = await this.client.json<Array<{ Untagged?: string; Deleted?: string }>>('DELETE', `/images/${encodeImage(name)}`, { query: { force: opts.force, noprune: opts['no-prune'] } });
      return (items ?? []).map((i) => (i.Untagged ? `Untagged: ${i.Untagged}` : `Deleted: ${i.Deleted}`)).join('\n');
    });
  }
}
