import { Args, Flags } from '@oclif/core';
import { readFile } from 'node:fs/promises';
import { MachineCommand } from '../../machine/cli/base.js';
import { InvalidArgumentError, reason } from '../../machine/errors.js';
import { importMachine } from '../../machine/transfer.js';

export default class Import extends MachineCommand {
  static summary = 'Add a machine exported by `machine export` to this store';
  static args = { file: Args.string({ description: 'export file', required: true }) };
  static flags = { name: Flags.string({ description: 'import under another name' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Import);
    const data = await readFile(args.file).catch((err) => { throw new InvalidArgumentError(`cannot read ${args.file}: ${reason(err)}`); });
    const name = await importMachine(this.storeFrom(flags), data, flags.name);
    this.log(`Imported "${name}"`);
  }
}
