import type { Driver } from '../../drivers/driver.js';
import { contextName, removeContext } from './context.js';
import { crashPoint } from './crashpoint.js';
import { openRunner, uninstall, layoutOf } from './provision/index.js';
import type { Store } from './store/index.js';
import type { HostConfig } from './store/host.js';

/**
 * Removes a machine: the driver's resources, then the store entry. An engine that
 * berth runs on this very computer (local driver) is stopped and unregistered too;
 * a generic host is left alone, as Docker Machine does. With `force`, errors of the
 * driver do not keep the store entry.
 */
export async function removeMachine(store: Store, host: HostConfig | null, name: string, driver: Driver | null, force: boolean, opts: { createFailed?: boolean } = {}): Promise<void> {
  try {
    if (driver && host && driver.connection().kind === 'local') {
      const runner = await openRunner(driver);
      try {
        const layout = layoutOf(host, driver);
        await uninstall(runner, layout, layout.prefix !== '');
      } finally {
        runner.close();
      }
    }
    await driver?.remove(opts);
  } catch (err) {
    if (!force) throw err;
  }
  crashPoint('rm:driver');
  await store.remove(name);
  // A docker context written by `machine use` would point at nothing now.
  await removeContext(contextName(name));
}
