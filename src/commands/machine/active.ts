import { Flags } from '@oclif/core';
import { MachineCommand } from '../../machine/cli/base.js';
import { MachineNotFoundError } from '../../machine/errors.js';
import { listMachines, parseFilters } from '../../machine/ls.js';

export default class Active extends MachineCommand {
  static summary = 'Print the machine $DOCKER_HOST points at';
  static flags = { timeout: Flags.integer({ char: 't', description: 'seconds to wait for each machine', default: 10 }) };

  async run(): Promise<void> {
    const { flags } = await this.parse(Active);
    if (!process.env.DOCKER_HOST) throw new MachineNotFoundError('no active host: DOCKER_HOST is not set', { hint: 'eval $(berth machine env NAME)' });
    const rows = await listMachines(this.storeFrom(flags), parseFilters([]), flags.timeout * 1000);
    const active = rows.find((r) => r.ActiveHost);
    if (!active) throw new MachineNotFoundError(`no running machine has the URL ${process.env.DOCKER_HOST}`);
    this.log(active.Name);
  }
}
