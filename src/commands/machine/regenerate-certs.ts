import { Args, Flags } from '@oclif/core';
import { MachineCommand, nameArgs } from '../../machine/cli/base.js';
import { regenerateCerts } from '../../machine/ops.js';

export default class RegenerateCerts extends MachineCommand {
  static summary = 'Issue a new server certificate (and with --client-certs a new CA and client cert) and restart the engine';
  static strict = false;
  static args = { name: Args.string({ description: 'machine names (default: "default")' }) };
  static flags = {
    force: Flags.boolean({ char: 'f', description: 'do not ask for confirmation' }),
    'client-certs': Flags.boolean({ description: 'also make a new CA and client certificate (other machines then need regenerate-certs too)' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(RegenerateCerts);
    const names = nameArgs(argv);
    const store = this.storeFrom(flags);
    for (const n of names) await store.load(n); // unknown names fail before the question
    if (!flags.force && !(await this.confirm('Regenerate TLS machine certs?  Warning: this is irreversible.'))) return;
    for (const [i, n] of names.entries()) {
      this.log(`Regenerating TLS certificates for "${n}"`);
      await regenerateCerts(store, n, flags['client-certs'] && i === 0);
    }
  }
}
