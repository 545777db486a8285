import { Args, Flags } from '@oclif/core';
import { MachineCommand } from '../../machine/cli/base.js';
import { QUERIES } from '../../machine/cli/queries.js';

export default class Config extends MachineCommand {
  static summary = 'Print the docker client flags that reach a machine';
  static args = { name: Args.string({ description: 'machine name (default: "default")' }) };
  static flags = { json: Flags.boolean({ description: 'print as JSON' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Config);
    await QUERIES.config({ args: args.name === undefined ? [] : [args.name], flags, store: this.storeFrom(flags), bin: this.config.bin });
  }
}
