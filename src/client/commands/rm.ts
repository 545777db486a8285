import type { OptionTable, Parsed } from '../argv.js';
import { ClientHandler } from '../handler.js';

const OPTIONS = {
  force: { kind: 'bool', char: 'f', description: 'force the removal of a running container (uses SIGKILL)' },
  volumes: { kind: 'bool', char: 'v', description: 'remove anonymous volumes associated with the container' },
  link: { kind: 'bool', char: 'l', description: 'remove the specified link' },
} as const satisfies OptionTable;

export default class Rm extends ClientHandler<typeof OPTIONS> {
  static summary = 'Remove one or more containers';
  static minArgs = 1;
  static argsUsage = 'CONTAINER [CONTAINER...]';
  static usage = 'rm [OPTIONS] CONTAINER [CONTAINER...]';
  static options = OPTIONS;

  protected exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<number> {
    return this.each(args, async (name) => {
      await this.client.json('DELETE', `/containers/${encodeURIComponent(name)}`, { query: { force: opts.force, v: opts.volumes, link: opts.link } });
      return name;
    });
  }
}
