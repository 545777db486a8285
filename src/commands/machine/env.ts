import { Args, Flags } from '@oclif/core';
import { MachineCommand, nameArg } from '../../machine/cli/base.js';
import { clientTlsPaths, engineUrl, loadMachine, requireRunning } from '../../machine/machine.js';
import { detectShell, machineVars, noProxyVar, renderEnv, UNSET_VARS, type EnvVars } from '../../machine/shell-env.js';
import { checkTls } from '../../machine/ops.js';
import { MachineError, UnreachableError } from '../../machine/errors.js';

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
    const shell = detectShell(flags.shell);
    const bin = `${this.config.bin} machine env`;
    const shellFlag = flags.shell ? ` --shell ${flags.shell}` : '';
    if (flags.unset) {
      if (args.name) throw new MachineError('Expected no machine name when the -u flag is present', { hint: `${bin} -u` });
      const vars: EnvVars = UNSET_VARS.map((k) => [k, '']);
      if (flags['no-proxy']) vars.push([noProxyVar('')[0], '']);
      process.stdout.write(renderEnv(shell, vars, true, `${bin}${shellFlag} -u`));
      return;
    }
    const name = nameArg(args);
    const store = this.storeFrom(flags);
    const m = await loadMachine(store, name);
    await requireRunning(m).catch((err: MachineError) => {
      throw new UnreachableError(`Error checking TLS connection: ${err.message}`, { hint: err.hint });
    });
    await checkTls(store, m);
    const ip = await m.driver.ip();
    const vars = machineVars(name, engineUrl(ip, m.driver.enginePort()), clientTlsPaths(m.host).dir);
    if (flags['no-proxy']) vars.push(noProxyVar(ip));
    process.stdout.write(renderEnv(shell, vars, false, `${bin}${shellFlag}${flags['no-proxy'] ? ' --no-proxy' : ''} ${name}`));
  }
}
