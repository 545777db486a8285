import { createReadStream } from 'node:fs';
import type { OptionTable, Parsed } from '../argv.js';
import { ClientHandler } from '../handler.js';
import { repoAndTag } from '../images.js';
import { printProgress } from '../progress.js';

const OPTIONS = {
  change: { kind: 'list', char: 'c', description: 'apply a Dockerfile instruction to the created image', value: 'INSTRUCTION' },
  message: { kind: 'string', char: 'm', description: 'set a commit message for the imported image', value: 'TEXT' },
  platform: { kind: 'string', description: 'set the platform if the server is multi-platform capable', value: 'OS/ARCH' },
} as const satisfies OptionTable;

export default class Import extends ClientHandler<typeof OPTIONS> {
  static summary = 'Import the contents from a tarball to create a filesystem image';
  static usage = 'import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]';
  static argsUsage = 'file|URL|- [REPOSITORY[:TAG]]';
  static minArgs = 1;
  static maxArgs = 2;
  static options = OPTIONS;

  protected async exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<void> {
    const [src, ref] = args;
    const url = /^https?:\/\//.test(src);
    const { repo, tag } = repoAndTag(ref);
    const body = url ? undefined : src === '-' ? process.stdin : createReadStream(src);
    const res = await this.client.stream('POST', '/images/create', {
      query: { fromSrc: url ? src : '-', repo, tag, message: opts.message, changes: opts.change, platform: opts.platform },
      body, headers: body ? { 'Content-Type': 'application/x-tar' } : {},
    });
    await printProgress(res, (line) => this.out(line + '\n'));
  }
}
