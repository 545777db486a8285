import type { OptionTable, Parsed } from '../argv.js';
import { ClientHandler } from '../handler.js';
import { writeArchive } from '../output.js';

const OPTIONS = {
  output: { kind: 'string', char: 'o', description: 'write to a file, instead of STDOUT', value: 'FILE' },
} as const satisfies OptionTable;

export default class Export extends ClientHandler<typeof OPTIONS> {
  static summary = "Export a container's filesystem as a tar archive";
  static usage = 'export [OPTIONS] CONTAINER';
  static argsUsage = 'CONTAINER';
  static minArgs = 1;
  static maxArgs = 1;
  static options = OPTIONS;

  protected async exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<void> {
    const res = await this.client.stream('GET', `/containers/${encodeURIComponent(args[0])}/export`);
    await writeArchive(res, opts.output);
  }
}
