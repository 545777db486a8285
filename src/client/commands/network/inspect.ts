import type { OptionTable, Parsed } from '../../argv.js';
import { ClientHandler } from '../../handler.js';
import { inspectAll, INSPECT_OPTIONS } from '../../inspect.js';

const OPTIONS = {
  ...INSPECT_OPTIONS,
  verbose: { kind: 'bool', char: 'v', description: 'verbose output for diagnostics' },
} as const satisfies OptionTable;

export default class NetworkInspect extends ClientHandler<typeof OPTIONS> {
  static summary = 'Display detailed information on one or more networks';
  static usage = 'network inspect [OPTIONS] NETWORK [NETWORK...]';
  static argsUsage = 'NETWORK [NETWORK...]';
  static minArgs = 1;
  static options = OPTIONS;

  protected async exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<number> {
    const { code, text } = await inspectAll(this.client, args, (n) => `/networks/${encodeURIComponent(n)}${opts.verbose ? '?verbose=1' : ''}`, 'network', opts.format, (s) => this.err(s));
    this.out(text);
    return code;
  }
}
