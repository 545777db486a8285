import { Args, Flags } from '@oclif/core';
import { writeFileAtomic } from '../../machine/atomic.js';
import { MachineCommand } from '../../machine/cli/base.js';
import { exportMachine } from '../../machine/transfer.js';

export default class Export extends MachineCommand {
  static summary = 'Write a machine (config, keys, certs, its CA) to one file, for `machine import` elsewhere';
  static args = { name: Args.string({ description: 'machine name', required: true }) };
  static flags = { output: Flags.string({ char: 'o', description: 'file to write (default: NAME.berth-machine.tgz)' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Export);
    const file = flags.output ?? `${args.name}.berth-machine.tgz`;
    await writeFileAtomic(file, await exportMachine(this.storeFrom(flags), args.name), 0o600);
    this.log(`Exported "${args.name}" to ${file} (it holds private keys: keep it safe)`);
  }
}
