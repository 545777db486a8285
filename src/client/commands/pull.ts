import type { OptionTable, Parsed } from '../argv.js';
import { ClientHandler } from '../handler.js';
import { pullImage } from '../images.js';

const OPTIONS = {
  'all-tags': { kind: 'bool', char: 'a', description: 'download all tagged images in the repository' },
  platform: { kind: 'string', description: 'platform, e.g. linux/amd64', value: 'OS/ARCH' },
  quiet: { kind: 'bool', char: 'q', description: 'suppress progress output' },
  json: { kind: 'bool', description: "print the engine's progress messages as JSON lines" },
} as const satisfies OptionTable;

export default class Pull extends ClientHandler<typeof OPTIONS> {
  static summary = 'Download an image from a registry';
  static minArgs = 1;
  static maxArgs = 1;
  static argsUsage = 'NAME[:TAG|@DIGEST]';
  static usage = 'pull [OPTIONS] NAME[:TAG|@DIGEST]';
  static options = OPTIONS;

  protected async exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<void> {
    const write = opts.quiet ? () => undefined : (line: string) => this.out(line + '\n');
    const ref = await pullImage(this.client, args[0], write, { all: opts['all-tags'], platform: opts.platform, json: opts.json });
    if (!opts.json) this.out(ref + '\n');
  }
}
