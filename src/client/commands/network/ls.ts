import type { OptionTable, Parsed } from '../../argv.js';
import { ClientHandler } from '../../handler.js';
import { renderList, table } from '../../format.js';
import { filtersQuery } from '../../filters.js';
import { goTime } from '../../containers.js';

const OPTIONS = {
  quiet: { kind: 'bool', char: 'q', description: 'only display network IDs' },
  filter: { kind: 'list', char: 'f', description: 'filter output (driver=, id=, label=, name=, scope=, type=)', value: 'KEY=VALUE' },
  format: { kind: 'string', description: 'json, table, or a template like "{{.Name}}"', value: 'FORMAT' },
  'no-trunc': { kind: 'bool', description: "don't truncate the output" },
} as const satisfies OptionTable;

interface Row { CreatedAt: string; Driver: string; ID: string; IPv4: string; IPv6: string; Internal: string; Labels: string; Name: string; Scope: string }

export default class NetworkLs extends ClientHandler<typeof OPTIONS> {
  static summary = 'List networks';
  static usage = 'network ls [OPTIONS]';
  static maxArgs = 0;
  static options = OPTIONS;

  protected async exec({ opts }: Parsed<typeof OPTIONS>): Promise<void> {
    const list = await this.client.json<any[]>('GET', '/networks', { query: { filters: filtersQuery(opts.filter) } });
    list.sort((a, b) => String(a.Name).localeCompare(String(b.Name)));
    const rows: Row[] = list.map((n) => ({
      CreatedAt: n.Created ? goTime(Date.parse(n.Created) / 1000) : '', Driver: String(n.Driver ?? ''), ID: opts['no-trunc'] ? n.Id : String(n.Id).slice(0, 12),
      IPv4: String(n.EnableIPv4 ?? true), IPv6: String(!!n.EnableIPv6), Internal: String(!!n.Internal),
      Labels: Object.entries(n.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','), Name: String(n.Name), Scope: String(n.Scope ?? 'local'),
    }));
    if (opts.quiet) return this.out(rows.map((r) => r.ID + '\n').join(''));
    const header = (f: string) => ({ ID: 'NETWORK ID', CreatedAt: 'CREATED AT' } as Record<string, string>)[f] ?? f.toUpperCase();
    this.out(renderList(opts.format, rows, () => table(['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], rows.map((r) => [r.ID, r.Name, r.Driver, r.Scope])), header));
  }
}
