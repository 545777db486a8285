import type { OptionTable, Parsed } from '../argv.js';
import { ClientHandler } from '../handler.js';
import { pushImage } from '../images.js';

const OPTIONS = {
  quiet: { kind: 'bool', char: 'q', description: 'suppress progress output' },
  json: { kind: 'bool', description: "print the engine's progress messages as JSON lines" },
} as const satisfies OptionTable;

export default class Push extends ClientHandler<typeof OPTIONS> {
  static summary = 'Upload an image to a registry';
  static minArgs = 1;
  static maxArgs = 1;
  static argsUsage = 'NAME[:TAG]';
  static usage = 'push [OPTIONS] NAME[:TAG]';
  static options = OPTIONS;

  protected async exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<void> {
    await pushImage(this.client, args[0], opts.quiet ? () => undefined : (line) => this.out(line + '\n'), opts.json);
  }
}
