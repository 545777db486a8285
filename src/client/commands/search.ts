import type { OptionTable, Parsed } from '../argv.js';
import { ClientHandler } from '../handler.js';
import { renderList, table } from '../format.js';
import { filtersQuery } from '../filters.js';

const OPTIONS = {
  filter: { kind: 'list', char: 'f', description: 'filter output (stars=N, is-official=true)', value: 'KEY=VALUE' },
  format: { kind: 'string', description: 'json, table, or a template like "{{.Name}}"', value: 'FORMAT' },
  limit: { kind: 'int', description: 'max number of search results', value: 'N' },
  'no-trunc': { kind: 'bool', description: "don't truncate output" },
} as const satisfies OptionTable;

interface Row { Name: string; Description: string; StarCount: string; IsOfficial: string; IsAutomated: string }

export default class Search extends ClientHandler<typeof OPTIONS> {
  static summary = 'Search Docker Hub (or a registry: HOST/TERM) for images';
  static usage = 'search [OPTIONS] TERM';
  static argsUsage = 'TERM';
  static minArgs = 1;
  static maxArgs = 1;
  static options = OPTIONS;

  protected async exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<void> {
    const list = await this.client.json<any[]>('GET', '/images/search', { query: { term: args[0], limit: opts.limit, filters: filtersQuery(opts.filter) } });
    const want = Object.fromEntries((opts.filter ?? []).map((f) => f.split('=', 2)));
    const rows: Row[] = list
      .filter((r) => (!want.stars || r.star_count >= Number(want.stars)) && (!want['is-official'] || String(!!r.is_official) === want['is-official']))
      .map((r) => {
        const desc = String(r.description ?? '').replace(/\n/g, ' ');
        return { Name: r.name, Description: !opts['no-trunc'] && desc.length > 45 ? `${desc.slice(0, 44)}…` : desc, StarCount: String(r.star_count ?? 0), IsOfficial: r.is_official ? '[OK]' : '', IsAutomated: r.is_automated ? '[OK]' : '' };
      });
    const header = (f: string) => ({ StarCount: 'STARS', IsOfficial: 'OFFICIAL', IsAutomated: 'AUTOMATED' } as Record<string, string>)[f] ?? f.toUpperCase();
    this.out(renderList(opts.format, rows, () => table(['NAME', 'DESCRIPTION', 'STARS', 'OFFICIAL'], rows.map((r) => [r.Name, r.Description, r.StarCount, r.IsOfficial])), header));
  }
}
