import { Args, Flags } from '@oclif/core';
import { MachineCommand, nameArg } from '../../machine/cli/base.js';
import { status } from '../../machine/ops.js';

export default class Status extends MachineCommand {
  static summary = 'Print the state of a machine';
  static args = { name: Args.string({ description: 'machine name (default: "default")' }) };
  static flags = { json: Flags.boolean({ description: 'print as JSON' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Status);
    const name = nameArg(args);
    const state = await status(this.storeFrom(flags), name);
    if (flags.json) this.printJson({ Name: name, State: state });
    else this.log(state);
  }
}
