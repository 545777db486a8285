import { Flags } from '@oclif/core';
import { MachineCommand } from '../../machine/cli/base.js';
import { QUERIES } from '../../machine/cli/queries.js';

export default class Active extends MachineCommand {
  static summary = 'Print the machine $DOCKER_HOST points at';
  static flags = { timeout: Flags.integer({ char: 't', description: 'seconds to wait for each machine', default: 10 }) };

  async run(): Promise<void> {
    const { flags } = await this.parse(Active);
    await QUERIES.active({ args: [], flags, store: this.storeFrom(flags), bin: this.config.bin });
  }
}
