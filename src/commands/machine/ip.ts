import { Args } from '@oclif/core';
import { MachineCommand } from '../../machine/cli/base.js';
import { QUERIES } from '../../machine/cli/queries.js';

export default class Ip extends MachineCommand {
  static summary = 'Print the IP address of machines';
  static strict = false;
  static args = { name: Args.string({ description: 'machine names (default: "default")' }) };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Ip);
    await QUERIES.ip({ args: argv as string[], flags, store: this.storeFrom(flags), bin: this.config.bin });
  }
}
