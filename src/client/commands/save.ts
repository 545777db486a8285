import type { OptionTable, Parsed } from '../argv.js';
import { ClientHandler } from '../handler.js';
import { writeArchive } from '../output.js';

const OPTIONS = {
  output: { kind: 'string', char: 'o', description: 'write to a file, instead of STDOUT', value: 'FILE' },
  platform: { kind: 'string', description: 'save only the given platform variant', value: 'OS/ARCH' },
} as const satisfies OptionTable;

export default class Save extends ClientHandler<typeof OPTIONS> {
  static summary = 'Save one or more images to a tar archive (streamed to STDOUT by default)';
  static usage = 'save [OPTIONS] IMAGE [IMAGE...]';
  static argsUsage = 'IMAGE [IMAGE...]';
  static minArgs = 1;
  static options = OPTIONS;

  protected async exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<void> {
    const res = await this.client.stream('GET', '/images/get', { query: { names: args, platform: opts.platform } });
    await writeArchive(res, opts.output);
  }
}
