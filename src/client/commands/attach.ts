import type { OptionTable, Parsed } from '../argv.js';
import { ClientHandler } from '../handler.js';
import { EngineApiError } from '../engine.js';
import { attachedSession } from '../session.js';

const OPTIONS = {
  'no-stdin': { kind: 'bool', description: 'do not attach STDIN' },
  'sig-proxy': { kind: 'bool', description: 'proxy all received signals to the process (default true; not with a TTY)' },
} as const satisfies OptionTable;

export default class Attach extends ClientHandler<typeof OPTIONS> {
  static summary = "Attach local standard input, output, and error streams to a running container";
  static usage = 'attach [OPTIONS] CONTAINER';
  static argsUsage = 'CONTAINER';
  static minArgs = 1;
  static maxArgs = 1;
  static options = OPTIONS;

  protected async exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<number> {
    const c = await this.client.json<{ Id: string; Config: { Tty?: boolean; OpenStdin?: boolean }; State: { Running?: boolean; Paused?: boolean; Restarting?: boolean }; HostConfig: { AutoRemove?: boolean } }>('GET', `/containers/${encodeURIComponent(args[0])}/json`);
    if (!c.State.Running) throw new EngineApiError(409, 'You cannot attach to a stopped container, start it first');
    if (c.State.Paused) throw new EngineApiError(409, 'You cannot attach to a paused container, unpause it first');
    return attachedSession(this.client, c.Id, { tty: !!c.Config.Tty, stdin: !opts['no-stdin'] && !!c.Config.OpenStdin, autoRemove: !!c.HostConfig.AutoRemove, start: false, sigProxy: opts['sig-proxy'] !== false });
  }
}
