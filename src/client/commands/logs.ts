import type { OptionTable, Parsed } from '../argv.js';
import { ClientHandler } from '../handler.js';
import { copyOutput } from '../frames.js';
import { relativeTime as relative } from '../times.js';

const OPTIONS = {
  follow: { kind: 'bool', char: 'f', description: 'follow log output' },
  tail: { kind: 'string', char: 'n', description: 'number of lines to show from the end of the logs (default all)', value: 'N' },
  timestamps: { kind: 'bool', char: 't', description: 'show timestamps' },
  since: { kind: 'string', description: 'show logs since a timestamp or relative (e.g. 42m)', value: 'TIME' },
  until: { kind: 'string', description: 'show logs before a timestamp or relative (e.g. 42m)', value: 'TIME' },
  details: { kind: 'bool', description: 'show extra details provided to logs' },
} as const satisfies OptionTable;

export default class Logs extends ClientHandler<typeof OPTIONS> {
  static summary = 'Fetch the logs of a container';
  static minArgs = 1;
  static maxArgs = 1;
  static argsUsage = 'CONTAINER';
  static usage = 'logs [OPTIONS] CONTAINER';
  static options = OPTIONS;

  protected async exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<void> {
    const id = encodeURIComponent(args[0]);
    const c = await this.client.json<{ Config: { Tty?: boolean } }>('GET', `/containers/${id}/json`);
    const res = await this.client.stream('GET', `/containers/${id}/logs`, {
      query: { stdout: true, stderr: true, follow: opts.follow, tail: opts.tail ?? 'all', timestamps: opts.timestamps, since: relative(opts.since), until: relative(opts.until), details: opts.details },
    });
    await copyOutput(res, process.stdout, process.stderr, !c.Config.Tty);
  }
}
