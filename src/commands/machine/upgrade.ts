import { Args } from '@oclif/core';
import { MachineCommand } from '../../machine/cli/base.js';
import { reprovision } from '../../machine/ops.js';

export default class Upgrade extends MachineCommand {
  static summary = "Upgrade machines' engine to this berth's bundle (nothing to do when it is the same)";
  static strict = false;
  static args = { name: Args.string({ description: 'machine names (default: "default")' }) };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Upgrade);
    const names = (argv as string[]).length ? (argv as string[]) : ['default'];
    const store = this.storeFrom(flags);
    await Promise.all(names.map(async (n) => {
      const { uploaded } = await reprovision(store, n, { upgradeOnly: true });
      this.log(uploaded ? `Upgraded "${n}"` : `"${n}" already runs this engine bundle`);
    }));
  }
}
