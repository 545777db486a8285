import { Args } from '@oclif/core';
import { completionScript, type CompletionShell } from '../../machine/completion.js';
import { MachineCommand } from '../../machine/cli/base.js';
import { InvalidArgumentError } from '../../machine/errors.js';

export default class Completion extends MachineCommand {
  static summary = 'Print the shell completion of machine commands and names (bash, zsh, fish)';
  static args = { shell: Args.string({ description: 'bash, zsh or fish', required: true }) };
  static examples = ['eval "$(<%= config.bin %> machine completion bash)"', 'source <(<%= config.bin %> machine completion zsh)', '<%= config.bin %> machine completion fish | source'];

  async run(): Promise<void> {
    const { args } = await this.parse(Completion);
    if (!['bash', 'zsh', 'fish'].includes(args.shell)) throw new InvalidArgumentError(`no completion for shell "${args.shell}"`, { hint: 'bash, zsh or fish' });
    const subs = this.config.commands.filter((c) => c.id.startsWith('machine:') && !c.hidden).map((c) => c.id.slice('machine:'.length));
    process.stdout.write(completionScript(args.shell as CompletionShell, [...subs, 'help']));
  }
}
