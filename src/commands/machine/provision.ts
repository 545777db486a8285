import { Args } from '@oclif/core';
import { MachineCommand } from '../../machine/cli/base.js';
import { reprovision } from '../../machine/ops.js';

export default class Provision extends MachineCommand {
  static summary = 'Run provisioning again on existing machines (bundle, certs, service)';
  static strict = false;
  static args = { name: Args.string({ description: 'machine names (default: "default")' }) };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Provision);
    const names = (argv as string[]).length ? (argv as string[]) : ['default'];
    const store = this.storeFrom(flags);
    await Promise.all(names.map(async (n) => {
      await reprovision(store, n);
      this.log(`Provisioned "${n}"`);
    }));
  }
}
