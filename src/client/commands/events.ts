import type { OptionTable, Parsed } from '../argv.js';
import { ClientHandler } from '../handler.js';
import { renderTemplate } from '../format.js';
import { filtersQuery } from '../filters.js';
import { relativeTime, rfc3339NanoFixed } from '../times.js';
import { streamLines } from '../lines.js';

const OPTIONS = {
  filter: { kind: 'list', char: 'f', description: 'filter output (container=, event=, image=, label=, network=, type=, volume=, daemon=)', value: 'KEY=VALUE' },
  format: { kind: 'string', description: 'json, or a template like "{{.Type}} {{.Action}}"', value: 'FORMAT' },
  since: { kind: 'string', description: 'show all events created since timestamp (or relative, e.g. 10m)', value: 'TIME' },
  until: { kind: 'string', description: 'stream events until this timestamp (or relative)', value: 'TIME' },
} as const satisfies OptionTable;

interface Message { Type: string; Action: string; Actor: { ID: string; Attributes?: Record<string, string> }; time: number; timeNano?: number; status?: string; id?: string; from?: string; scope?: string }

export function eventLine(m: Message, timeNano: bigint): string {
  const attrs = Object.entries(m.Actor?.Attributes ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`);
  return `${rfc3339NanoFixed(timeNano)} ${m.Type} ${m.Action} ${m.Actor?.ID ?? ''}${attrs.length ? ` (${attrs.join(', ')})` : ''}`;
}

export default class Events extends ClientHandler<typeof OPTIONS> {
  static summary = 'Get real time events from the server';
  static usage = 'events [OPTIONS]';
  static maxArgs = 0;
  static options = OPTIONS;

  protected async exec({ opts }: Parsed<typeof OPTIONS>): Promise<void> {
    const res = await this.client.stream('GET', '/events', { query: { since: relativeTime(opts.since), until: relativeTime(opts.until), filters: filtersQuery(opts.filter) } });
    const handle = (line: string) => {
      // timeNano needs more than a double's 53 bits: read it from the text.
      const nano = /"timeNano":(\d+)/.exec(line)?.[1];
      const m = JSON.parse(line) as Message;
      if (opts.format === 'json') return this.out(line + '\n');
      if (opts.format) return this.out(renderTemplate(opts.format, m) + '\n');
      this.out(eventLine(m, nano ? BigInt(nano) : BigInt(m.time) * 1_000_000_000n) + '\n');
    };
    for await (const line of streamLines(res)) handle(line);
  }
}
