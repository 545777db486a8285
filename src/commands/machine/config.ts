import { Args, Flags } from '@oclif/core';
import { MachineCommand, nameArg } from '../../machine/cli/base.js';
import { clientTlsPaths, engineUrl, loadMachine, requireRunning } from '../../machine/machine.js';

export default class Config extends MachineCommand {
  static summary = 'Print the docker client flags that reach a machine';
  static args = { name: Args.string({ description: 'machine name (default: "default")' }) };
  static flags = { json: Flags.boolean({ description: 'print as JSON' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Config);
    const m = await loadMachine(this.storeFrom(flags), nameArg(args));
    await requireRunning(m);
    const tls = clientTlsPaths(m.host);
    const host = engineUrl(await m.driver.ip(), m.driver.enginePort());
    if (flags.json) return this.printJson({ tlsverify: true, tlscacert: tls.ca, tlscert: tls.cert, tlskey: tls.key, host });
    this.log(`--tlsverify\n--tlscacert="${tls.ca}"\n--tlscert="${tls.cert}"\n--tlskey="${tls.key}"\n-H=${host}`);
  }
}
