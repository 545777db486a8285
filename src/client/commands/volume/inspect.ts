import type { Parsed } from '../../argv.js';
import { ClientHandler } from '../../handler.js';
import { inspectAll, INSPECT_OPTIONS } from '../../inspect.js';

export default class VolumeInspect extends ClientHandler<typeof INSPECT_OPTIONS> {
  static summary = 'Display detailed information on one or more volumes';
  static usage = 'volume inspect [OPTIONS] VOLUME [VOLUME...]';
  static argsUsage = 'VOLUME [VOLUME...]';
  static minArgs = 1;
  static options = INSPECT_OPTIONS;

  protected async exec({ opts, args }: Parsed<typeof INSPECT_OPTIONS>): Promise<number> {
    const { code, text } = await inspectAll(this.client, args, (n) => `/volumes/${encodeURIComponent(n)}`, 'volume', opts.format, (s) => this.err(s));
    this.out(text);
    return code;
  }
}
