import { Args, Flags } from '@oclif/core';
import { combinedError, MachineCommand, nameArgs } from '../../machine/cli/base.js';
import { reprovision } from '../../machine/ops.js';
import { progressMode, runTasks } from '../../machine/tasks.js';

export default class Provision extends MachineCommand {
  static summary = 'Run provisioning again on existing machines (bundle, certs, service)';
  static strict = false;
  static args = { name: Args.string({ description: 'machine names (default: "default")' }) };
  static flags = { json: Flags.boolean({ description: 'no progress; print the result as JSON' }) };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Provision);
    const names = nameArgs(argv);
    const store = this.storeFrom(flags);
    const errors = await runTasks(names.map((n) => ({ title: `Provisioning ${n}`, task: async () => { await reprovision(store, n); } })), progressMode(flags.json), true, {});
    if (flags.json) this.printJson({ provisioned: names.length - errors.length, errors: errors.map((e) => e.message) });
    if (errors.length) throw combinedError(errors);
  }
}
