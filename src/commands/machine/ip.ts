import { Args } from '@oclif/core';
import { MachineCommand, nameArgs } from '../../machine/cli/base.js';
import { loadMachine, requireRunning } from '../../machine/machine.js';

export default class Ip extends MachineCommand {
  static summary = 'Print the IP address of machines';
  static strict = false;
  static args = { name: Args.string({ description: 'machine names (default: "default")' }) };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Ip);
    const names = nameArgs(argv);
    const store = this.storeFrom(flags);
    for (const n of names) {
      const m = await loadMachine(store, n);
      await requireRunning(m);
      this.log(await m.driver.ip());
    }
  }
}
