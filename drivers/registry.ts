import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '../src/common/paths.js';
import { InvalidArgumentError } from '../src/machine/errors.js';
import { amazonec2Driver } from './amazonec2/index.js';
import type { DriverFactory } from './driver.js';
import { genericDriver } from './generic/index.js';
import { localDriver } from './local/index.js';
import { noneDriver } from './none/index.js';
import { qemuDriver } from './qemu/index.js';
import { virtualboxDriver } from './virtualbox/index.js';

/**
 * Built-in drivers, plus any installed package named `berth-driver-NAME` whose
 * default export is a DriverFactory (found in node_modules beside berth).
 */
const builtin: DriverFactory[] = [localDriver, genericDriver, noneDriver, amazonec2Driver, virtualboxDriver, qemuDriver];
const extra = new Map<string, DriverFactory>();

export const DEFAULT_DRIVER = 'local';

export function registerDriver(factory: DriverFactory): void {
  extra.set(factory.name, factory);
}

export function builtinDrivers(): DriverFactory[] {
  return [...builtin, ...extra.values()];
}

/** A package's ES entry file: ESM has no directory imports, so package.json says which. */
async function packageEntry(dir: string): Promise<string> {
  const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8').catch(() => '{}')) as { main?: string; exports?: unknown };
  const root = (typeof pkg.exports === 'object' && pkg.exports !== null && '.' in pkg.exports ? (pkg.exports as Record<string, unknown>)['.'] : pkg.exports) as unknown;
  const conditional = typeof root === 'object' && root !== null ? (root as Record<string, unknown>) : {};
  const entry = typeof root === 'string' ? root : (conditional.import ?? conditional.default ?? pkg.main ?? 'index.js');
  return join(dir, String(entry));
}

export async function discoverDrivers(nodeModules: string): Promise<DriverFactory[]> {
  const names = (await readdir(nodeModules).catch(() => [] as string[])).filter((n) => n.startsWith('berth-driver-'));
  const found: DriverFactory[] = [];
  for (const n of names) {
    try {
      const mod = await import(pathToFileURL(await packageEntry(join(nodeModules, n))).href);
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

let discovered: Promise<unknown> | undefined;

/**
 * The driver a machine was made with: a built-in, or an installed `berth-driver-*`
 * package, looked for once per process and only when the name isn't built in.
 */
export async function findDriver(name: string, nodeModules = join(projectRoot(), 'node_modules')): Promise<DriverFactory> {
  if (!builtinDrivers().some((d) => d.name === name)) await (discovered ??= discoverDrivers(nodeModules));
  return getDriver(name);
}

export function getDriver(name: string): DriverFactory {
  const f = builtinDrivers().find((d) => d.name === name);
  if (!f) {
    throw new InvalidArgumentError(`unknown driver "${name}"`, { hint: `available drivers: ${builtinDrivers().map((d) => d.name).join(', ')}` });
  }
  return f;
}
