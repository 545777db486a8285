import { Args, Flags } from '@oclif/core';
import { MachineCommand } from '../../machine/cli/base.js';
import { loadMachine, type Machine } from '../../machine/machine.js';
import { scpRun } from '../../machine/ssh-client.js';
import type { Store } from '../../machine/store/index.js';

export default class Scp extends MachineCommand {
  static summary = 'Copy files between machines and this computer (NAME:path)';
  static args = { src: Args.string({ required: true }), dst: Args.string({ required: true }) };
  static flags = {
    recursive: Flags.boolean({ char: 'r', description: 'copy directories' }),
    delta: Flags.boolean({ char: 'd', description: 'only differences (rsync)' }),
    quiet: Flags.boolean({ char: 'q', description: 'no progress' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Scp);
    const store = this.storeFrom(flags);
    const src = await side(store, args.src);
    const dst = await side(store, args.dst);
    process.exitCode = await scpRun(src, dst, { recursive: flags.recursive, delta: flags.delta, quiet: flags.quiet });
  }
}

async function side(store: Store, arg: string): Promise<{ m?: Machine; path: string }> {
  const m = /^([a-zA-Z0-9][a-zA-Z0-9\-.]*):(.*)$/.exec(arg);
  if (!m) return { path: arg };
  return { m: await loadMachine(store, m[1]), path: m[2] };
}
