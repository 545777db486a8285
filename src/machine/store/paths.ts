import { isAbsolute, relative, resolve } from 'node:path';
import type { HostConfig } from './host.js';

/** The path-valued fields of config.json, which the store keeps relative to itself. */
const AUTH_PATHS = ['CertDir', 'CaCertPath', 'CaPrivateKeyPath', 'ServerCertPath', 'ServerKeyPath', 'ClientKeyPath', 'ClientCertPath', 'StorePath'] as const;
const DRIVER_PATHS = ['SSHKeyPath', 'StorePath'] as const;

type Mapper = (p: string) => string;

function mapPaths(host: HostConfig, fn: Mapper, copy: HostConfig = structuredClone(host)): HostConfig {
  const auth = copy.HostOptions.AuthOptions as unknown as Record<string, string>;
  for (const key of AUTH_PATHS) if (auth[key]) auth[key] = fn(auth[key]);
  const driver = copy.Driver as Record<string, unknown>;
  for (const key of DRIVER_PATHS) if (typeof driver[key] === 'string' && driver[key]) driver[key] = fn(driver[key] as string);
  return copy;
}

/** Store-relative paths for disk; a path outside the store (a user's own key) stays absolute. */
export function toStoreRelative(host: HostConfig, storeRoot: string): HostConfig {
  return mapPaths(host, (p) => {
    if (!isAbsolute(p)) return p;
    const rel = relative(storeRoot, p);
    if (rel === '') return '.';
    return rel.startsWith('..') ? p : rel;
  });
}

/** Absolute paths, in place: for a config just parsed, which nothing else holds (ls loads twenty). */
export function toAbsolute(host: HostConfig, storeRoot: string): HostConfig {
  return mapPaths(host, (p) => (isAbsolute(p) ? p : resolve(storeRoot, p)), host);
}
