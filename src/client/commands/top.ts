import type { Parsed } from '../argv.js';
import { ClientHandler } from '../handler.js';
import { table } from '../format.js';

export default class Top extends ClientHandler<Record<string, never>> {
  static summary = 'Display the running processes of a container';
  static usage = 'top CONTAINER [ps OPTIONS]';
  static argsUsage = 'CONTAINER [ps OPTIONS]';
  static minArgs = 1;
  static stopAtFirstArg = true;

  protected async exec({ args }: Parsed<Record<string, never>>): Promise<void> {
    const [container, ...psArgs] = args;
    const res = await this.client.json<{ Titles: string[]; Processes: string[][] }>('GET', `/containers/${encodeURIComponent(container)}/top`, { query: { ps_args: psArgs.length ? psArgs.join(' ') : undefined } });
    // docker's tabwriter here: minimum width 20, padding 3.
    this.out(table(res.Titles, res.Processes, 20));
  }
}
