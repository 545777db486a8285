import type { OptionTable, Parsed } from '../argv.js';
import { ClientHandler } from '../handler.js';
import { ago, humanSize, renderList, shortId, table } from '../format.js';

const OPTIONS = {
  all: { kind: 'bool', char: 'a', description: 'show all images' },
  quiet: { kind: 'bool', char: 'q', description: 'only show image IDs' },
  digests: { kind: 'bool', description: 'show digests' },
  filter: { kind: 'list', char: 'f', description: 'filter output (dangling=, label=, reference=, before=, since=)', value: 'KEY=VALUE' },
  format: { kind: 'string', description: 'json, table, or a template like "{{.Repository}}:{{.Tag}}"', value: 'FORMAT' },
  json: { kind: 'bool', description: 'same as --format json' },
  'no-trunc': { kind: 'bool', description: "don't truncate output" },
} as const satisfies OptionTable;

interface ImageRow { Containers: string; CreatedAt: string; CreatedSince: string; Digest: string; ID: string; Repository: string; SharedSize: string; Size: string; Tag: string; UniqueSize: string; VirtualSize: string }

export default class Images extends ClientHandler<typeof OPTIONS> {
  static summary = 'List images';
  static maxArgs = 1;
  static argsUsage = '[REPOSITORY[:TAG]]';
  static usage = 'images [OPTIONS] [REPOSITORY[:TAG]]';
  static options = OPTIONS;

  protected async exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<void> {
    const filters: Record<string, Record<string, boolean>> = {};
    for (const f of opts.filter ?? []) {
      const eq = f.indexOf('=');
      (filters[eq > 0 ? f.slice(0, eq) : f] ??= {})[eq > 0 ? f.slice(eq + 1) : 'true'] = true;
    }
    if (args[0]) (filters.reference ??= {})[args[0]] = true;
    const list = await this.client.json<any[]>('GET', '/images/json', { query: { all: opts.all, filters: Object.keys(filters).length ? JSON.stringify(filters) : undefined } });
    const rows: ImageRow[] = [];
    for (const img of list) {
      const id = opts['no-trunc'] ? img.Id : shortId(img.Id);
      const tags: string[] = img.RepoTags?.length ? img.RepoTags : ['<none>:<none>'];
      const digest = (img.RepoDigests ?? [])[0]?.split('@')[1] ?? '<none>';
      for (const t of tags) {
        const colon = t.lastIndexOf(':');
        rows.push({
          Containers: img.Containers >= 0 ? String(img.Containers) : 'N/A', CreatedAt: new Date(img.Created * 1000).toISOString(), CreatedSince: ago(img.Created),
          Digest: digest, ID: id, Repository: t.slice(0, colon), SharedSize: 'N/A', Size: humanSize(img.Size), Tag: t.slice(colon + 1), UniqueSize: 'N/A', VirtualSize: humanSize(img.Size),
        });
      }
    }
    if (opts.quiet) return this.out([...new Set(rows.map((r) => r.ID))].map((id) => id + '\n').join(''));
    const headers = ['REPOSITORY', 'TAG', ...(opts.digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE'];
    const tableRow = (r: ImageRow) => [r.Repository, r.Tag, ...(opts.digests ? [r.Digest] : []), r.ID, r.CreatedSince, r.Size];
    const header = (f: string) => ({ ID: 'IMAGE ID', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT' } as Record<string, string>)[f] ?? f.toUpperCase();
    this.out(renderList(opts.json ? 'json' : opts.format, rows, () => table(headers, rows.map(tableRow)), header));
  }
}
