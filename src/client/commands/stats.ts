import type { OptionTable, Parsed } from '../argv.js';
import { ClientHandler } from '../handler.js';
import { renderList, table } from '../format.js';
import { STATS_HEADERS, statsRow, statsTableRow, type StatsRow } from '../stats.js';
import { streamLines } from '../lines.js';

const OPTIONS = {
  all: { kind: 'bool', char: 'a', description: 'show all containers (default shows just running)' },
  'no-stream': { kind: 'bool', description: 'disable streaming stats and only pull the first result' },
  'no-trunc': { kind: 'bool', description: "don't truncate output" },
  format: { kind: 'string', description: 'json, table, or a template like "{{.Name}} {{.CPUPerc}}"', value: 'FORMAT' },
} as const satisfies OptionTable;

export default class Stats extends ClientHandler<typeof OPTIONS> {
  static summary = 'Display a live stream of container(s) resource usage statistics';
  static usage = 'stats [OPTIONS] [CONTAINER...]';
  static argsUsage = '[CONTAINER...]';
  static options = OPTIONS;

  protected async exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<number> {
    const names = args.length ? args : (await this.client.json<any[]>('GET', '/containers/json', { query: { all: opts.all } })).map((c) => String(c.Id));
    const rows = new Map<string, StatsRow>();
    const noTrunc = !!opts['no-trunc'];
    const header = (f: string) => ({ ID: 'CONTAINER ID', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O' } as Record<string, string>)[f] ?? f.toUpperCase();
    const render = () => {
      const list = names.filter((n) => rows.has(n)).map((n) => rows.get(n)!);
      return renderList(opts.format, list, () => table(STATS_HEADERS, list.map(statsTableRow)), header);
    };
    if (opts['no-stream']) {
      const failed = await this.each(names, async (name) => {
        const s = await this.client.json('GET', `/containers/${encodeURIComponent(name)}/stats`, { query: { stream: '0' } });
        rows.set(name, statsRow(args.length ? name : String(s.id).slice(0, 12), s, noTrunc));
      });
      this.out(render());
      return failed;
    }
    const tty = process.stdout.isTTY;
    const follow = async (name: string) => {
      const res = await this.client.stream('GET', `/containers/${encodeURIComponent(name)}/stats`, { query: { stream: '1' } });
      for await (const l of streamLines(res)) rows.set(name, statsRow(args.length ? name : name.slice(0, 12), JSON.parse(l), noTrunc));
    };
    const timer = setInterval(() => this.out((tty ? '\x1b[2J\x1b[H' : '') + render()), 1000);
    try {
      await Promise.all(names.map((n) => follow(n).catch((err) => this.err(`berth: ${(err as Error).message}\n`))));
    } finally {
      clearInterval(timer);
    }
    return 0;
  }
}
