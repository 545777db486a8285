import { Args } from '@oclif/core';
import { reason } from '../errors.js';
import { lifecycle, type LifecycleVerb } from '../ops.js';
import { MachineCommand, nameArgs } from './base.js';

/** start/stop/restart/kill: several names run concurrently; any failure fails the command. */
export function lifecycleCommand(verb: LifecycleVerb, summary: string, done: string) {
  return class extends MachineCommand {
    static summary = summary;
    static strict = false;
    static args = { name: Args.string({ description: 'machine names (default: "default")' }) };

    async run(): Promise<void> {
      const { argv, flags } = await this.parse({ strict: false, args: { name: Args.string() }, baseFlags: MachineCommand.baseFlags } as never) as { argv: string[]; flags: { 'storage-path'?: string } };
      const names = nameArgs(argv);
      const store = this.storeFrom(flags);
      const results = await Promise.allSettled(names.map((n) => lifecycle(store, n, verb)));
      let failed: unknown;
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') {
          this.log(`${done} "${names[i]}"`);
          if (r.value.warning) this.warn(r.value.warning);
          if (verb === 'start' || verb === 'restart') this.log(`Machine "${names[i]}" may have a new IP address: if so, \`${this.config.bin} machine env ${names[i]}\` prints the new one`);
        } else {
          failed ??= r.reason;
          if (names.length > 1) process.stderr.write(`Error: ${names[i]}: ${reason(r.reason)}\n`);
        }
      });
      if (failed) throw failed;
    }
  };
}
