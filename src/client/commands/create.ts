import type { Parsed } from '../argv.js';
import { ClientHandler } from '../handler.js';
import { CREATE_OPTIONS, createRequest } from '../container-config.js';
import { createContainer } from '../create.js';

export default class Create extends ClientHandler<typeof CREATE_OPTIONS> {
  static summary = 'Create a new container';
  static stopAtFirstArg = true;
  static minArgs = 1;
  static argsUsage = 'IMAGE [COMMAND] [ARG...]';
  static failExit = 125;
  static usageExit = 125;
  static usage = 'create [OPTIONS] IMAGE [COMMAND] [ARG...]';
  static options = CREATE_OPTIONS;

  protected async exec({ opts, args }: Parsed<typeof CREATE_OPTIONS>): Promise<void> {
    const created = await createContainer(this.client, createRequest(opts, args[0], args.slice(1)), opts.pull);
    for (const w of created.Warnings ?? []) this.err(`WARNING: ${w}\n`);
    this.out(created.Id + '\n');
  }
}
