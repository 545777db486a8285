import { join } from 'node:path';
import type { Driver } from '../../drivers/driver.js';
import { findDriver } from '../../drivers/registry.js';
import { engineService, openRunner } from './provision/index.js';
import { NotSupportedError, UnreachableError } from './errors.js';
import type { Store } from './store/index.js';
import type { HostConfig } from './store/host.js';

/** A stored machine with its driver. */
export interface Machine { host: HostConfig; driver: Driver }

/**
 * A stored machine; one whose create did not finish is refused unless `halfMade` is
 * allowed (provision), and one whose create still runs always is.
 */
export async function loadMachine(store: Store, name: string, opts: { halfMade?: boolean } = {}): Promise<Machine> {
  return machineOf(store, await store.load(name), opts);
}

/** The same, for a machine whose config.json was just loaded (ls over many machines). */
export async function machineOf(store: Store, host: HostConfig, opts: { halfMade?: boolean } = {}): Promise<Machine> {
  const name = host.Name;
  const half = await store.refuseWhileCreating(name);
  if (!opts.halfMade && half) {
    throw new NotSupportedError(`machine "${name}" was not fully created`, { hint: `run the same \`berth machine create\` again (or \`berth machine provision ${name}\`) to finish it, or \`berth machine rm -f ${name}\`` });
  }
  const driver = (await findDriver(host.DriverName)).fromSettings(host.Driver);
  return { host, driver };
}

export function engineServiceOf(m: Machine) {
  return engineService(m.host, m.driver, () => openRunner(m.driver, 15_000));
}

export function engineUrl(ip: string, port: number): string {
  return `tcp://${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
}

/**
 * The client-side TLS files of a machine (what DOCKER_CERT_PATH points at), and where
 * berth keeps its last TLS session with the engine (a dot file: export leaves it out).
 */
export function clientTlsPaths(host: HostConfig) {
  const dir = host.HostOptions.AuthOptions.StorePath;
  return { dir, ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem'), session: join(dir, '.tls-session') };
}

/** url, ip, env and config of a machine that is not Running fail as Docker Machine's do: "Host is not running". */
export async function requireRunning(m: Machine): Promise<void> {
  const state = await m.driver.state(engineServiceOf(m));
  if (state !== 'Running') throw new UnreachableError('Host is not running', { hint: `machine "${m.host.Name}" is ${state}: berth machine start ${m.host.Name}` });
}
