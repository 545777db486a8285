import { Args } from '@oclif/core';
import { MachineCommand } from '../../machine/cli/base.js';
import { QUERIES } from '../../machine/cli/queries.js';

export default class Url extends MachineCommand {
  static summary = 'Print the engine URL of a machine';
  static args = { name: Args.string({ description: 'machine name (default: "default")' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Url);
    await QUERIES.url({ args: args.name === undefined ? [] : [args.name], flags, store: this.storeFrom(flags), bin: this.config.bin });
  }
}
