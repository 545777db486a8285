import { Args, Flags } from '@oclif/core';
import { MachineCommand, nameArg } from '../../machine/cli/base.js';
import { contextName, selectContext, writeContext } from '../../machine/context.js';
import { clientTlsPaths, engineUrl, loadMachine } from '../../machine/machine.js';
import { checkTls } from '../../machine/ops.js';

export default class Use extends MachineCommand {
  static summary = 'Write a Docker context for a machine and select it (docker follows without env vars)';
  static args = { name: Args.string({ description: 'machine name (default: "default")' }) };
  static flags = { unset: Flags.boolean({ char: 'u', description: "go back to docker's default context" }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Use);
    if (flags.unset) {
      await selectContext(undefined);
      this.log('Using the default docker context');
      return;
    }
    const name = nameArg(args);
    const store = this.storeFrom(flags);
    const m = await loadMachine(store, name);
    await checkTls(store, m);
    const url = engineUrl(await m.driver.ip(), m.driver.enginePort());
    await writeContext(contextName(name), `berth machine ${name}`, url, clientTlsPaths(m.host));
    await selectContext(contextName(name));
    this.log(`Using docker context "${contextName(name)}" (${url})`);
    if (process.env.DOCKER_HOST) this.warn('DOCKER_HOST is set and wins over contexts: clear it with eval $(berth machine env -u)');
  }
}
