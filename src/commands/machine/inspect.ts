import { Args, Flags } from '@oclif/core';
import { MachineCommand } from '../../machine/cli/base.js';
import { QUERIES } from '../../machine/cli/queries.js';

export default class Inspect extends MachineCommand {
  static summary = 'Print the stored configuration of a machine';
  static args = { name: Args.string({ description: 'machine name (default: "default")' }) };
  static flags = {
    format: Flags.string({ char: 'f', description: 'Go template, e.g. "{{.Driver.IPAddress}}" or "{{json .HostOptions}}"' }),
    json: Flags.boolean({ description: 'print as JSON (the default)' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Inspect);
    await QUERIES.inspect({ args: args.name === undefined ? [] : [args.name], flags, store: this.storeFrom(flags), bin: this.config.bin });
  }
}
