import { InvalidArgumentError } from '../errors.js';
import { CONFIG_VERSION, defaultEngineOptions, type HostConfig } from './host.js';

/**
 * Stepwise migrations of config.json, oldest first, like libmachine's migrate_vN_vM.
 * Docker Machine stores ConfigVersion 3 with absolute paths: those are rebased onto
 * this store when they point inside the store they were written from (see rebase).
 */
type Raw = Record<string, any>;

const steps: Record<number, (raw: Raw) => Raw> = {
  // v0 had the driver settings flattened and no HostOptions.
  0: (raw) => ({ ...raw, ConfigVersion: 1, HostOptions: raw.HostOptions ?? { EngineOptions: defaultEngineOptions(), AuthOptions: {} } }),
  // v1 -> v2: libmachine moved the driver's raw settings under "Driver".
  1: (raw) => ({ ...raw, ConfigVersion: 2, Driver: raw.Driver ?? raw.DriverOptions ?? {} }),
  // v2 -> v3: SwarmOptions appeared; berth keeps the field for shape only.
  2: (raw) => ({ ...raw, ConfigVersion: 3, HostOptions: { SwarmOptions: { IsSwarm: false }, ...raw.HostOptions } }),
};

export function migrate(raw: Raw, name: string): HostConfig {
  let version = typeof raw.ConfigVersion === 'number' ? raw.ConfigVersion : 0;
  if (version > CONFIG_VERSION) {
    throw new InvalidArgumentError(`machine "${name}": config.json has version ${version}, newer than this berth understands (${CONFIG_VERSION})`, { hint: 'upgrade berth' });
  }
  let cur = raw;
  while (version < CONFIG_VERSION) {
    cur = steps[version](cur);
    version = cur.ConfigVersion;
  }
  const host = cur as HostConfig;
  host.HostOptions.EngineOptions = { ...defaultEngineOptions(), ...host.HostOptions.EngineOptions };
  host.Driver.EnginePort ??= 2376;
  return host;
}

/**
 * A Docker Machine store keeps absolute paths of the directory it lived in. When a
 * path starts with the old store root, it is moved under the new root.
 */
export function rebase(host: HostConfig, oldRoot: string | undefined, newRoot: string): HostConfig {
  if (!oldRoot || oldRoot === newRoot) return host;
  const text = JSON.stringify(host).split(JSON.stringify(oldRoot).slice(1, -1)).join(JSON.stringify(newRoot).slice(1, -1));
  return JSON.parse(text) as HostConfig;
}
