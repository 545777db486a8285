import { Args } from '@oclif/core';
import { MachineCommand } from '../../machine/cli/base.js';
import { NotSupportedError } from '../../machine/errors.js';
import { loadMachine, engineServiceOf } from '../../machine/machine.js';
import { sshRun } from '../../machine/ssh-client.js';

export default class Ssh extends MachineCommand {
  static summary = 'Log into a machine or run a command on it (exits with its status)';
  static strict = false;
  static args = { name: Args.string({ description: 'machine name', required: true }) };

  async run(): Promise<void> {
    const { args, argv, flags } = await this.parse(Ssh);
    const store = this.storeFrom(flags);
    const m = await loadMachine(store, args.name);
    const state = await m.driver.state(engineServiceOf(m));
    if (state !== 'Running' && m.driver.connection().kind === 'ssh') throw new NotSupportedError(`machine "${args.name}" is ${state}: ssh needs it Running`, { hint: `berth machine start ${args.name}` });
    process.exitCode = await sshRun(m, (argv as string[]).slice(1));
  }

}
