import type { OptionTable, Parsed } from '../argv.js';
import { UsageError } from '../argv.js';
import { ClientHandler } from '../handler.js';
import { attachedSession, StartError } from '../session.js';

const OPTIONS = {
  attach: { kind: 'bool', char: 'a', description: "attach STDOUT/STDERR and forward signals; exit with the container's status" },
  interactive: { kind: 'bool', char: 'i', description: "attach the container's STDIN" },
} as const satisfies OptionTable;

export default class Start extends ClientHandler<typeof OPTIONS> {
  static summary = 'Start one or more stopped containers';
  static minArgs = 1;
  static argsUsage = 'CONTAINER [CONTAINER...]';
  static usage = 'start [OPTIONS] CONTAINER [CONTAINER...]';
  static options = OPTIONS;

  protected async exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<number> {
    if (!opts.attach && !opts.interactive) {
      return this.each(args, async (name) => {
        await this.client.json('POST', `/containers/${encodeURIComponent(name)}/start`);
        return name;
      });
    }
    if (args.length > 1) throw new UsageError('you cannot start and attach multiple containers at once');
    const c = await this.client.json<{ Id: string; Config: { Tty?: boolean; OpenStdin?: boolean }; State: { Running?: boolean }; HostConfig: { AutoRemove?: boolean } }>('GET', `/containers/${encodeURIComponent(args[0])}/json`);
    try {
      return await attachedSession(this.client, c.Id, { tty: !!c.Config.Tty, stdin: !!opts.interactive && !!c.Config.OpenStdin, autoRemove: !!c.HostConfig.AutoRemove, start: !c.State.Running });
    } catch (err) {
      if (!(err instanceof StartError)) throw err;
      this.err(`berth: ${err.message}\n`);
      return 1;
    }
  }
}
