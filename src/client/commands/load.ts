import { createReadStream } from 'node:fs';
import type { OptionTable, Parsed } from '../argv.js';
import { UsageError } from '../argv.js';
import { ClientHandler } from '../handler.js';
import { printProgress } from '../progress.js';

const OPTIONS = {
  input: { kind: 'string', char: 'i', description: 'read from tar archive file, instead of STDIN', value: 'FILE' },
  quiet: { kind: 'bool', char: 'q', description: 'suppress the load output' },
  platform: { kind: 'string', description: 'load only the given platform variant', value: 'OS/ARCH' },
} as const satisfies OptionTable;

export default class Load extends ClientHandler<typeof OPTIONS> {
  static summary = 'Load an image from a tar archive or STDIN';
  static usage = 'load [OPTIONS]';
  static maxArgs = 0;
  static options = OPTIONS;

  protected async exec({ opts }: Parsed<typeof OPTIONS>): Promise<void> {
    if (!opts.input && process.stdin.isTTY) throw new UsageError('requested load from stdin, but stdin is empty: give -i FILE or redirect a tar');
    const body = opts.input ? createReadStream(opts.input) : process.stdin;
    const res = await this.client.stream('POST', '/images/load', { query: { quiet: true, platform: opts.platform }, body, headers: { 'Content-Type': 'application/x-tar' } });
    await printProgress(res, (line) => opts.quiet || this.out(line + '\n'));
  }
}
