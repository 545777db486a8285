import { Args, Flags } from '@oclif/core';
import { MachineCommand } from '../../machine/cli/base.js';
import { QUERIES } from '../../machine/cli/queries.js';

export default class Env extends MachineCommand {
  static summary = 'Print the commands that point a shell at a machine';
  static args = { name: Args.string({ description: 'machine name (default: "default")' }) };
  static flags = {
    shell: Flags.string({ description: 'bash, zsh, sh, fish, powershell, cmd, tcsh or emacs (default: from $SHELL)' }),
    unset: Flags.boolean({ char: 'u', description: 'print the commands that unset the variables' }),
    'no-proxy': Flags.boolean({ description: 'add the machine IP to NO_PROXY' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Env);
    await QUERIES.env({ args: args.name === undefined ? [] : [args.name], flags, store: this.storeFrom(flags), bin: this.config.bin });
  }
}
