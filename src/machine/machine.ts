import { join } from 'node:path';
import type { Driver } from '../../drivers/driver.js';
import { findDriver } from '../../drivers/registry.js';
import { engineService, openRunner } from './provision/index.js';
import type { Store } from './store/index.js';
import type { HostConfig } from './store/host.js';

/** A stored machine with its driver. */
export interface Machine { host: HostConfig; driver: Driver }

export async function loadMachine(store: Store, name: string): Promise<Machine> {
  const host = await store.load(name);
  const driver = (await findDriver(host.DriverName)).fromSettings(host.Driver);
  return { host, driver };
}

export function engineServiceOf(m: Machine) {
  return engineService(m.host, m.driver, () => openRunner(m.driver, 15_000));
}

export function engineUrl(ip: string, port: number): string {
  return `tcp://${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
}

/** The client-side TLS files of a machine (what DOCKER_CERT_PATH points at). */
export function clientTlsPaths(host: HostConfig) {
  const dir = host.HostOptions.AuthOptions.StorePath;
  return { dir, ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
}
