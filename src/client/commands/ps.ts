import type { OptionTable, Parsed } from '../argv.js';
import { UsageError } from '../argv.js';
import { ClientHandler } from '../handler.js';
import { containerRows, PS_HEADERS, psTableRow } from '../containers.js';
import { renderList, table } from '../format.js';

const OPTIONS = {
  all: { kind: 'bool', char: 'a', description: 'show all containers (default shows just running)' },
  quiet: { kind: 'bool', char: 'q', description: 'only display container IDs' },
  filter: { kind: 'list', char: 'f', description: 'filter output (status=, name=, label=, id=, ancestor=, exited=…)', value: 'KEY=VALUE' },
  format: { kind: 'string', description: 'json, table, or a template like "{{.ID}} {{.Names}}"', value: 'FORMAT' },
  json: { kind: 'bool', description: 'same as --format json' },
  'no-trunc': { kind: 'bool', description: "don't truncate output" },
  latest: { kind: 'bool', char: 'l', description: 'show the latest created container' },
  size: { kind: 'bool', char: 's', description: 'display total file sizes' },
} as const satisfies OptionTable;

export default class Ps extends ClientHandler<typeof OPTIONS> {
  static summary = 'List containers';
  static usage = 'ps [OPTIONS]';
  static maxArgs = 0;
  static options = OPTIONS;

  protected async exec({ opts }: Parsed<typeof OPTIONS>): Promise<void> {
    const filters: Record<string, Record<string, boolean>> = {};
    for (const f of opts.filter ?? []) {
      const eq = f.indexOf('=');
      if (eq <= 0) throw new UsageError(`bad format of filter "${f}": expected name=value`);
      (filters[f.slice(0, eq)] ??= {})[f.slice(eq + 1)] = true;
    }
    const list = await this.client.json<any[]>('GET', '/containers/json', {
      query: { all: opts.all, limit: opts.latest ? 1 : undefined, size: opts.size, filters: Object.keys(filters).length ? JSON.stringify(filters) : undefined },
    });
    const rows = containerRows(list, !!opts['no-trunc']);
    if (opts.quiet) return this.out(rows.map((r) => r.ID + '\n').join(''));
    const format = opts.json ? 'json' : opts.format;
    this.out(renderList(format, rows, () => table(PS_HEADERS, rows.map(psTableRow)), psHeader));
  }
}

function psHeader(field: string): string {
  return ({ ID: 'CONTAINER ID', CreatedAt: 'CREATED AT', RunningFor: 'CREATED' } as Record<string, string>)[field] ?? field.toUpperCase();
}
