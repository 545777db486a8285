import { Args, Flags } from '@oclif/core';
import { MachineCommand } from '../../machine/cli/base.js';
import { QUERIES } from '../../machine/cli/queries.js';

export default class Status extends MachineCommand {
  static summary = 'Print the state of a machine';
  static args = { name: Args.string({ description: 'machine name (default: "default")' }) };
  static flags = { json: Flags.boolean({ description: 'print as JSON' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Status);
    await QUERIES.status({ args: args.name === undefined ? [] : [args.name], flags, store: this.storeFrom(flags), bin: this.config.bin });
  }
}
