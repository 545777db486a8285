import { Args, Flags } from '@oclif/core';
import { engineVersion, loadTlsMaterial } from '../../client/tls.js';
import { MachineCommand } from '../../machine/cli/base.js';
import { clientTlsPaths, loadMachine } from '../../machine/machine.js';

export default class Version extends MachineCommand {
  static summary = "Print berth's version, or the engine version of a machine";
  static args = { name: Args.string({ description: 'machine name' }) };
  static flags = { json: Flags.boolean({ description: 'print as JSON' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Version);
    if (!args.name) {
      if (flags.json) return this.printJson({ Version: this.config.version });
      return this.log(`berth machine version ${this.config.version}`);
    }
    const m = await loadMachine(this.storeFrom(flags), args.name);
    const v = await engineVersion(await m.driver.ip(), m.driver.enginePort(), await loadTlsMaterial(clientTlsPaths(m.host)));
    if (flags.json) this.printJson({ Name: args.name, Version: v });
    else this.log(v);
  }
}
