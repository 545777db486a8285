import type { Parsed } from '../client/argv.js';
import { ClientCommand, helpFlags } from '../client/command.js';
import { CREATE_OPTIONS, createRequest } from '../client/container-config.js';
import { createContainer } from '../client/create.js';

export default class Create extends ClientCommand<typeof CREATE_OPTIONS> {
  static summary = 'Create a new container';
  static stopAtFirstArg = true;
  static minArgs = 1;
  static argsUsage = 'IMAGE [COMMAND] [ARG...]';
  static failExit = 125;
  static usageExit = 125;
  static usage = 'create [OPTIONS] IMAGE [COMMAND] [ARG...]';
  static flags = helpFlags(CREATE_OPTIONS);
  protected readonly options = CREATE_OPTIONS;

  protected async exec({ opts, args }: Parsed<typeof CREATE_OPTIONS>): Promise<void> {
    const created = await createContainer(this.client, createRequest(opts, args[0], args.slice(1)), opts.pull);
    for (const w of created.Warnings ?? []) this.err(`WARNING: ${w}\n`);
    this.out(created.Id + '\n');
  }
}
