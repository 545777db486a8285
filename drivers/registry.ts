import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError } from '../src/machine/errors.js';
import type { DriverFactory } from './driver.js';
import { genericDriver } from './generic/index.js';
import { localDriver } from './local/index.js';

/**
 * Built-in drivers, plus any installed package named `berth-driver-NAME` whose
 * default export is a DriverFactory (found in node_modules beside berth).
 */
const builtin: DriverFactory[] = [localDriver, genericDriver];
const extra = new Map<string, DriverFactory>();

export const DEFAULT_DRIVER = 'local';

export function registerDriver(factory: DriverFactory): void {
  extra.set(factory.name, factory);
}

export function builtinDrivers(): DriverFactory[] {
  return [...builtin, ...extra.values()];
}

export async function discoverDrivers(nodeModules: string): Promise<DriverFactory[]> {
  const names = (await readdir(nodeModules).catch(() => [] as string[])).filter((n) => n.startsWith('berth-driver-'));
  const found: DriverFactory[] = [];
  for (const n of names) {
    try {
      const mod = await import(pathToFileURL(join(nodeModules, n)).href);
      const factory = (mod.default ?? mod.driver) as DriverFactory | undefined;
      if (factory?.name && typeof factory.fromFlags === 'function') {
        registerDriver(factory);
        found.push(factory);
      }
    } catch (err) {
      // A broken plugin must not break every command; it is reported when asked for.
      process.emitWarning(`berth: driver package ${n} failed to load: ${(err as Error).message}`);
    }
  }
  return found;
}

export function getDriver(name: string): DriverFactory {
  const f = builtinDrivers().find((d) => d.name === name);
  if (!f) {
    throw new InvalidArgumentError(`unknown driver "${name}"`, { hint: `available drivers: ${builtinDrivers().map((d) => d.name).join(', ')}` });
  }
  return f;
}
