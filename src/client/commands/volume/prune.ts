import type { OptionTable, Parsed } from '../../argv.js';
import { ClientHandler } from '../../handler.js';
import { humanSize } from '../../format.js';
import { filtersQuery } from '../../filters.js';
import { confirm } from '../../prompt.js';

const OPTIONS = {
  force: { kind: 'bool', char: 'f', description: 'do not prompt for confirmation' },
  all: { kind: 'bool', char: 'a', description: 'remove all unused volumes, not just anonymous ones' },
  filter: { kind: 'list', description: 'provide filter values (e.g. "label=<label>")', value: 'KEY=VALUE' },
} as const satisfies OptionTable;

export default class VolumePrune extends ClientHandler<typeof OPTIONS> {
  static summary = 'Remove unused local volumes';
  static usage = 'volume prune [OPTIONS]';
  static maxArgs = 0;
  static options = OPTIONS;

  protected async exec({ opts }: Parsed<typeof OPTIONS>): Promise<void> {
    const what = opts.all ? 'all local volumes not used by at least one container' : 'all anonymous local volumes not used by at least one container';
    if (!opts.force && !(await confirm(`WARNING! This will remove ${what}.`, (s) => this.out(s)))) return;
    const res = await this.client.json<{ VolumesDeleted?: string[]; SpaceReclaimed?: number }>('POST', '/volumes/prune', {
      query: { filters: filtersQuery(opts.filter, opts.all ? { all: ['true'] } : {}) },
    });
    const deleted = res?.VolumesDeleted ?? [];
    if (deleted.length) this.out(`Deleted Volumes:\n${deleted.map((n) => n + '\n').join('')}\n`);
    this.out(`Total reclaimed space: ${humanSize(res?.SpaceReclaimed ?? 0)}\n`);
  }
}
