import type { OptionTable, Parsed } from '../../argv.js';
import { ClientHandler } from '../../handler.js';
import { humanSize, renderList, table } from '../../format.js';
import { filtersQuery } from '../../filters.js';

const OPTIONS = {
  quiet: { kind: 'bool', char: 'q', description: 'only display volume names' },
  filter: { kind: 'list', char: 'f', description: 'filter output (dangling=, driver=, label=, name=)', value: 'KEY=VALUE' },
  format: { kind: 'string', description: 'json, table, or a template like "{{.Name}}"', value: 'FORMAT' },
  cluster: { kind: 'bool', description: 'display only cluster volumes (none here)' },
} as const satisfies OptionTable;

interface Row { Availability: string; Driver: string; Group: string; Labels: string; Links: string; Mountpoint: string; Name: string; Scope: string; Size: string; Status: string }

export default class VolumeLs extends ClientHandler<typeof OPTIONS> {
  static summary = 'List volumes';
  static usage = 'volume ls [OPTIONS]';
  static maxArgs = 0;
  static options = OPTIONS;

  protected async exec({ opts }: Parsed<typeof OPTIONS>): Promise<void> {
    const res = await this.client.json<{ Volumes: any[] | null }>('GET', '/volumes', { query: { filters: filtersQuery(opts.filter) } });
    const list = opts.cluster ? [] : (res.Volumes ?? []).sort((a, b) => String(a.Name).localeCompare(String(b.Name)));
    const rows: Row[] = list.map((v) => ({
      Availability: 'N/A', Driver: String(v.Driver), Group: 'N/A', Labels: Object.entries(v.Labels ?? {}).map(([k, x]) => `${k}=${x}`).join(','),
      Links: v.UsageData && v.UsageData.RefCount >= 0 ? String(v.UsageData.RefCount) : 'N/A', Mountpoint: String(v.Mountpoint ?? ''), Name: String(v.Name),
      Scope: String(v.Scope ?? 'local'), Size: v.UsageData && v.UsageData.Size >= 0 ? humanSize(v.UsageData.Size) : 'N/A', Status: 'N/A',
    }));
    if (opts.quiet) return this.out(rows.map((r) => r.Name + '\n').join(''));
    const header = (f: string) => ({ Name: 'VOLUME NAME' } as Record<string, string>)[f] ?? f.toUpperCase();
    this.out(renderList(opts.format, rows, () => table(['DRIVER', 'VOLUME NAME'], rows.map((r) => [r.Driver, r.Name])), header));
  }
}
