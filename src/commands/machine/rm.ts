import { Args, Flags } from '@oclif/core';
import { findDriver } from '../../../drivers/registry.js';
import { MachineCommand } from '../../machine/cli/base.js';
import { reason } from '../../machine/errors.js';
import { removeMachine } from '../../machine/remove.js';
import type { Store } from '../../machine/store/index.js';

export default class Rm extends MachineCommand {
  static summary = 'Remove machines';
  static strict = false;
  static args = { name: Args.string({ description: 'machine names', required: true }) };
  static flags = {
    force: Flags.boolean({ char: 'f', description: 'remove the store entry even when the driver fails' }),
    yes: Flags.boolean({ char: 'y', description: 'do not ask for confirmation' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Rm);
    const names = argv as string[];
    const store = this.storeFrom(flags);
    for (const n of names) await removable(store, n); // unknown names fail before anything is removed
    if (!flags.yes && !flags.force) {
      this.log(`About to remove ${names.join(', ')}\nWARNING: This action will delete both local reference and remote instance.`);
      if (!(await this.confirm('Are you sure?'))) return;
    }
    let failed: unknown;
    await Promise.all(names.map((n) => remove(store, n, flags.force).then(
      () => this.log(`Successfully removed ${n}`),
      (err) => { failed ??= err; process.stderr.write(`Error removing ${n}: ${reason(err)}\n`); },
    )));
    if (failed) throw failed;
  }
}

/** A create of NAME that still runs keeps it; one killed before its first save left only a directory to delete. */
async function removable(store: Store, name: string): Promise<'leftover' | 'machine'> {
  await store.refuseWhileCreating(name);
  if (await store.isLeftover(name)) return 'leftover';
  await store.load(name);
  return 'machine';
}

async function remove(store: Store, name: string, force: boolean): Promise<void> {
  await store.withMachineLock(name, async () => {
    if ((await removable(store, name)) === 'leftover') {
      await store.remove(name);
      return;
    }
    const host = await store.load(name);
    const driver = (await findDriver(host.DriverName)).fromSettings(host.Driver);
    await removeMachine(store, host, name, driver, force);
  });
}
