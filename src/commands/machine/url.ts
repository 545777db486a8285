import { Args } from '@oclif/core';
import { MachineCommand, nameArg } from '../../machine/cli/base.js';
import { engineUrl, loadMachine, requireRunning } from '../../machine/machine.js';

export default class Url extends MachineCommand {
  static summary = 'Print the engine URL of a machine';
  static args = { name: Args.string({ description: 'machine name (default: "default")' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Url);
    const m = await loadMachine(this.storeFrom(flags), nameArg(args));
    await requireRunning(m);
    this.log(engineUrl(await m.driver.ip(), m.driver.enginePort()));
  }
}
