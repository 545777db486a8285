import { Args, Flags } from '@oclif/core';
import { combinedError, MachineCommand, nameArgs } from '../../machine/cli/base.js';
import { reprovision } from '../../machine/ops.js';
import { progressMode, runTasks } from '../../machine/tasks.js';

export default class Upgrade extends MachineCommand {
  static summary = "Upgrade machines' engine to this berth's bundle (nothing to do when it is the same)";
  static strict = false;
  static args = { name: Args.string({ description: 'machine names (default: "default")' }) };
  static flags = { json: Flags.boolean({ description: 'no progress; print the result as JSON' }) };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Upgrade);
    const names = nameArgs(argv);
    const store = this.storeFrom(flags);
    const uploaded: Record<string, boolean> = {};
    const errors = await runTasks(names.map((n) => ({
      title: `Upgrading ${n}`,
      task: async (_ctx: unknown, task: { title: string }) => {
        uploaded[n] = (await reprovision(store, n, { upgradeOnly: true })).uploaded;
        task.title = uploaded[n] ? `Upgraded "${n}"` : `"${n}" already runs this engine bundle`;
      },
    })), progressMode(flags.json), true, {});
    if (flags.json) this.printJson({ upgraded: uploaded, errors: errors.map((e) => e.message) });
    if (errors.length) throw combinedError(errors);
  }
}
