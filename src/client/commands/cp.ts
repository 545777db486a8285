import type { OptionTable, Parsed } from '../argv.js';
import { UsageError } from '../argv.js';
import { ClientHandler } from '../handler.js';
import { copyFromContainer, copyToContainer, CopyError } from '../copy.js';

const OPTIONS = {
  archive: { kind: 'bool', char: 'a', description: 'archive mode (copy all uid/gid information)' },
  'follow-link': { kind: 'bool', char: 'L', description: 'always follow symbol link in SRC_PATH' },
  quiet: { kind: 'bool', char: 'q', description: 'suppress progress output during copy (there is none)' },
} as const satisfies OptionTable;

/** "name:/path" → [name, path]; a local path (absolute, ./, or without a colon) → undefined. */
function containerPath(arg: string): [string, string] | undefined {
  if (arg.startsWith('/') || arg.startsWith('.')) return undefined;
  const colon = arg.indexOf(':');
  return colon > 0 ? [arg.slice(0, colon), arg.slice(colon + 1) || '/'] : undefined;
}

export default class Cp extends ClientHandler<typeof OPTIONS> {
  static summary = 'Copy files/folders between a container and the local filesystem';
  static usage = 'cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n  cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH';
  static argsUsage = 'CONTAINER:SRC_PATH DEST_PATH|-';
  static minArgs = 2;
  static maxArgs = 2;
  static options = OPTIONS;

  protected async exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<number> {
    const from = containerPath(args[0]);
    const to = containerPath(args[1]);
    if (from && to) throw new UsageError('copying between containers is not supported');
    if (!from && !to) throw new UsageError('must specify at least one container source');
    try {
      if (from) await copyFromContainer(this.client, from[0], from[1], args[1], process.stdout);
      else await copyToContainer(this.client, to![0], args[0], to![1], process.stdin, { followLink: opts['follow-link'], archive: opts.archive });
      return 0;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (!(err instanceof CopyError) && e.code !== 'ENOENT' && e.code !== 'EACCES') throw err;
      this.err(`berth: ${e.code === 'ENOENT' ? `no such file or directory: ${e.path ?? args[0]}` : e.message}\n`);
      return 1;
    }
  }
}
