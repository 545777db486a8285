import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '../src/common/paths.js';
import { InvalidArgumentError } from '../src/machine/errors.js';
import { amazonec2Info } from './amazonec2/info.js';
import type { DriverFactory, DriverInfo } from './driver.js';
import { genericInfo } from './generic/info.js';
import { localInfo } from './local/info.js';
import { noneInfo } from './none/info.js';
import { qemuInfo } from './qemu/info.js';
import { virtualboxInfo } from './virtualbox/info.js';

/**
 * Built-in drivers, plus any installed package named `berth-driver-NAME` whose
 * default export is a DriverFactory (found in node_modules beside berth). A built-in
 * driver's module is loaded only when a machine of that driver is made or used: a
 * command over `none` machines does not load the EC2 or VirtualBox code.
 */
interface Builtin { info: DriverInfo; load: () => Promise<DriverFactory> }
const builtin: Builtin[] = [
  { info: localInfo, load: () => import('./local/index.js').then((m) => m.localDriver) },
  { info: genericInfo, load: () => import('./generic/index.js').then((m) => m.genericDriver) },
  { info: noneInfo, load: () => import('./none/index.js').then((m) => m.noneDriver) },
  { info: amazonec2Info, load: () => import('./amazonec2/index.js').then((m) => m.amazonec2Driver) },
  { info: virtualboxInfo, load: () => import('./virtualbox/index.js').then((m) => m.virtualboxDriver) },
  { info: qemuInfo, load: () => import('./qemu/index.js').then((m) => m.qemuDriver) },
];
const extra = new Map<string, DriverFactory>();

export const DEFAULT_DRIVER = 'local';

export function registerDriver(factory: DriverFactory): void {
  extra.set(factory.name, factory);
}

/** Every driver's name, description and flags (plugins found so far included). */
export function builtinDrivers(): DriverInfo[] {
  return [...builtin.map((b) => b.info), ...extra.values()];
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
 * A driver by name: a built-in (its module loaded now), or an installed
 * `berth-driver-*` package, looked for once per process and only when the name isn't built in.
 */
export async function findDriver(name: string, nodeModules = join(projectRoot(), 'node_modules')): Promise<DriverFactory> {
  const b = builtin.find((d) => d.info.name === name);
  if (b) return b.load();
  if (!extra.has(name)) await (discovered ??= discoverDrivers(nodeModules));
  const f = extra.get(name);
  if (!f) {
    throw new InvalidArgumentError(`unknown driver "${name}"`, { hint: `available drivers: ${builtinDrivers().map((d) => d.name).join(', ')}` });
  }
  return f;
}
