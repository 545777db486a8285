import type { OptionTable, Parsed } from '../argv.js';
import { ClientHandler } from '../handler.js';
import { ago, humanSize, renderList, shortId, table } from '../format.js';
import { encodeImage } from '../images.js';

const OPTIONS = {
  quiet: { kind: 'bool', char: 'q', description: 'only show image IDs' },
  'no-trunc': { kind: 'bool', description: "don't truncate output" },
  human: { kind: 'bool', char: 'H', description: 'sizes and dates in human readable form (default true)' },
  format: { kind: 'string', description: 'json, table, or a template like "{{.CreatedBy}}"', value: 'FORMAT' },
  json: { kind: 'bool', description: 'same as --format json' },
} as const satisfies OptionTable;

interface Row { ID: string; CreatedSince: string; CreatedAt: string; CreatedBy: string; Size: string; Comment: string }

export default class History extends ClientHandler<typeof OPTIONS> {
  static summary = 'Show the history of an image';
  static minArgs = 1;
  static maxArgs = 1;
  static argsUsage = 'IMAGE';
  static usage = 'history [OPTIONS] IMAGE';
  static options = OPTIONS;

  protected async exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<void> {
    const list = await this.client.json<Array<{ Id: string; Created: number; CreatedBy: string; Size: number; Comment: string }>>('GET', `/images/${encodeImage(args[0])}/history`);
    const human = opts.human !== false;
    const trunc = !opts['no-trunc'];
    const rows: Row[] = list.map((h) => ({
      ID: h.Id === '<missing>' || !trunc ? h.Id : shortId(h.Id),
      CreatedSince: human ? ago(h.Created) : new Date(h.Created * 1000).toISOString(),
      CreatedAt: new Date(h.Created * 1000).toISOString(),
      // docker's table shows 45 characters of the command.
      CreatedBy: trunc && h.CreatedBy.length > 45 ? `${h.CreatedBy.slice(0, 44)}…` : h.CreatedBy,
      Size: human ? humanSize(h.Size) : String(h.Size),
      Comment: h.Comment,
    }));
    if (opts.quiet) return this.out(rows.map((r) => r.ID + '\n').join(''));
    const header = (f: string) => ({ ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY' } as Record<string, string>)[f] ?? f.toUpperCase();
    this.out(renderList(opts.json ? 'json' : opts.format, rows, () => table(['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'], rows.map((r) => [r.ID, r.CreatedSince, r.CreatedBy, r.Size, r.Comment])), header));
  }
}
