import { Args } from '@oclif/core';
import { MachineCommand } from '../../machine/cli/base.js';
import { InvalidArgumentError, NotSupportedError } from '../../machine/errors.js';
import { loadMachine, engineServiceOf } from '../../machine/machine.js';
import { sshRun } from '../../machine/ssh-client.js';
import { Store } from '../../machine/store/index.js';

export default class Ssh extends MachineCommand {
  static summary = 'Log into a machine or run a command on it (exits with its status)';
  static strict = false;
  static args = { name: Args.string({ description: 'machine name', required: true }) };
  static examples = ['<%= config.bin %> machine ssh dev', '<%= config.bin %> machine ssh dev ls -la /etc/berth'];

  async run(): Promise<void> {
    // Everything after NAME belongs to the remote command (its own -flags included),
    // so only the flags before NAME are ours.
    const { storagePath, name, command } = splitArgv(this.argv);
    const m = await loadMachine(new Store(storagePath), name);
    const state = await m.driver.state(engineServiceOf(m));
    if (state !== 'Running' && m.driver.connection().kind === 'ssh') throw new NotSupportedError(`machine "${name}" is ${state}: ssh needs it Running`, { hint: `berth machine start ${name}` });
    process.exitCode = await sshRun(m, command);
  }
}

function splitArgv(argv: string[]): { storagePath?: string; name: string; command: string[] } {
  let storagePath: string | undefined;
  let i = 0;
  for (; i < argv.length && argv[i].startsWith('-'); i++) {
    const a = argv[i];
    if (a === '--storage-path' || a === '-s') storagePath = argv[++i];
    else if (a.startsWith('--storage-path=')) storagePath = a.slice('--storage-path='.length);
    else throw new InvalidArgumentError(`unknown flag ${a} before the machine name`, { hint: 'berth machine ssh [--storage-path DIR] NAME [COMMAND…]' });
  }
  const name = argv[i];
  if (!name) throw new InvalidArgumentError('ssh needs a machine name', { hint: 'berth machine ssh NAME [COMMAND…]' });
  const rest = argv.slice(i + 1);
  return { storagePath, name, command: rest[0] === '--' ? rest.slice(1) : rest };
}
