import type { OptionTable, Parsed } from '../../argv.js';
import { ClientHandler } from '../../handler.js';
import { filtersQuery } from '../../filters.js';
import { confirm } from '../../prompt.js';

const OPTIONS = {
  force: { kind: 'bool', char: 'f', description: 'do not prompt for confirmation' },
  filter: { kind: 'list', description: 'provide filter values (e.g. "until=<timestamp>", "label=k=v")', value: 'KEY=VALUE' },
} as const satisfies OptionTable;

export default class NetworkPrune extends ClientHandler<typeof OPTIONS> {
  static summary = 'Remove all unused networks';
  static usage = 'network prune [OPTIONS]';
  static maxArgs = 0;
  static options = OPTIONS;

  protected async exec({ opts }: Parsed<typeof OPTIONS>): Promise<void> {
    if (!opts.force && !(await confirm('WARNING! This will remove all custom networks not used by at least one container.', (s) => this.out(s)))) return;
    const res = await this.client.json<{ NetworksDeleted?: string[] }>('POST', '/networks/prune', { query: { filters: filtersQuery(opts.filter) } });
    const deleted = res?.NetworksDeleted ?? [];
    if (deleted.length) this.out(`Deleted Networks:\n${deleted.map((n) => n + '\n').join('')}`);
  }
}
