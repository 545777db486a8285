/** API version negotiation: paths may carry /v1.NN; without it the newest applies. */
import { InvalidArgumentError } from '../errors.js';

export const MIN_API_VERSION = '1.12';
export const MAX_API_VERSION = '1.47';

export function compareVersions(a: string, b: string): number {
  const [am, an] = a.split('.').map(Number);
  const [bm, bn] = b.split('.').map(Number);
  return am - bm || an - bn;
}

/** Splits "/v1.41/containers/json" into ["1.41", "/containers/json"]. */
export function splitVersion(path: string): { version: string; rest: string } {
  const m = /^\/v(\d+\.\d+)(\/.*)?$/.exec(path);
  if (!m) return { version: MAX_API_VERSION, rest: path };
  const version = m[1];
  if (compareVersions(version, MAX_API_VERSION) > 0) {
    throw new InvalidArgumentError(`client version ${version} is too new. Maximum supported API version is ${MAX_API_VERSION}`);
  }
  if (compareVersions(version, MIN_API_VERSION) < 0) {
    throw new InvalidArgumentError(`client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
  }
  return { version, rest: m[2] ?? '/' };
}
