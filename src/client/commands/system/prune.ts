import type { OptionTable, Parsed } from '../../argv.js';
import { ClientHandler } from '../../handler.js';
import { humanSize } from '../../format.js';
import { filtersQuery } from '../../filters.js';
import { confirm } from '../../prompt.js';

const OPTIONS = {
  all: { kind: 'bool', char: 'a', description: 'remove all unused images not just dangling ones' },
  force: { kind: 'bool', char: 'f', description: 'do not prompt for confirmation' },
  volumes: { kind: 'bool', description: 'prune anonymous volumes' },
  filter: { kind: 'list', description: 'provide filter values (e.g. "label=<key>=<value>")', value: 'KEY=VALUE' },
} as const satisfies OptionTable;

export default class SystemPrune extends ClientHandler<typeof OPTIONS> {
  static summary = 'Remove unused data';
  static usage = 'system prune [OPTIONS]';
  static maxArgs = 0;
  static options = OPTIONS;

  protected async exec({ opts }: Parsed<typeof OPTIONS>): Promise<void> {
    const what = ['all stopped containers', 'all networks not used by at least one container', ...(opts.volumes ? ['all anonymous volumes not used by at least one container'] : []),
      opts.all ? 'all images without at least one container associated to them' : 'all dangling images'];
    if (!opts.force && !(await confirm(`WARNING! This will remove:\n${what.map((w) => `  - ${w}\n`).join('')}`, (s) => this.out(s)))) return;
    const filters = filtersQuery(opts.filter);
    let reclaimed = 0;
    const section = (title: string, lines: string[] | undefined) => lines?.length && this.out(`Deleted ${title}:\n${lines.map((l) => l + '\n').join('')}\n`);
    const c = await this.client.json('POST', '/containers/prune', { query: { filters } });
    section('Containers', c?.ContainersDeleted);
    reclaimed += c?.SpaceReclaimed ?? 0;
    const n = await this.client.json('POST', '/networks/prune', { query: { filters } });
    section('Networks', n?.NetworksDeleted);
    if (opts.volumes) {
      const v = await this.client.json('POST', '/volumes/prune', { query: { filters } });
      section('Volumes', v?.VolumesDeleted);
      reclaimed += v?.SpaceReclaimed ?? 0;
    }
    const i = await this.client.json('POST', '/images/prune', { query: { filters: filtersQuery(opts.filter, { dangling: [opts.all ? 'false' : 'true'] }) } });
    section('Images', (i?.ImagesDeleted ?? []).map((d: { Untagged?: string; Deleted?: string }) => (d.Untagged ? `untagged: ${d.Untagged}` : `deleted: ${d.Deleted}`)));
    reclaimed += i?.SpaceReclaimed ?? 0;
    this.out(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
  }
}
