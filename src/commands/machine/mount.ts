import { Args, Flags } from '@oclif/core';
import { basename } from 'node:path';
import { MachineCommand } from '../../machine/cli/base.js';
import { InvalidArgumentError } from '../../machine/errors.js';
import { loadMachine, requireRunning } from '../../machine/machine.js';
import { sshfsMount } from '../../machine/ssh-client.js';

export default class Mount extends MachineCommand {
  static summary = 'Mount a directory of a machine on this computer with sshfs (-u unmounts it)';
  static args = {
    src: Args.string({ description: 'NAME:PATH on the machine', required: true }),
    dir: Args.string({ description: 'local directory (default: the basename of PATH)' }),
  };
  static flags = { unmount: Flags.boolean({ char: 'u', description: 'unmount instead of mounting' }) };
  static examples = ['<%= config.bin %> machine mount dev:/var/www ./www', '<%= config.bin %> machine mount -u dev:/var/www ./www'];

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Mount);
    const m = /^([a-zA-Z0-9][a-zA-Z0-9\-.]*):(.*)$/.exec(args.src);
    if (!m) throw new InvalidArgumentError(`"${args.src}": you must specify a machine name`, { hint: 'berth machine mount NAME:PATH [LOCALDIR]' });
    const path = m[2] || '.';
    const dir = args.dir ?? basename(path);
    const machine = await loadMachine(this.storeFrom(flags), m[1]);
    if (!flags.unmount) await requireRunning(machine);
    process.exitCode = await sshfsMount(machine, path, dir, flags.unmount);
  }
}
