/**
 * Join tokens in swarmkit's format: SWMTKN-1-<digest of the CA certificate, base 36,
 * 50 digits>-<random secret, base 36, 25 digits>. The digest lets a joining node check
 * it talks to the right cluster before it trusts the manager's certificate.
 */
import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';
import { caDigest } from './ca.js';

const base36 = (hex: string, width: number) => BigInt(`0x${hex}`).toString(36).padStart(width, '0');

export function newJoinToken(caPem: string): string {
  return `SWMTKN-1-${base36(caDigest(caPem), 50)}-${base36(randomBytes(16).toString('hex'), 25)}`;
}

/** The CA digest (hex) a token names; bad tokens fail plainly. */
export function tokenCaDigest(token: string): string {
  const m = /^SWMTKN-1-([0-9a-z]{50})-([0-9a-z]{25})$/.exec(token);
  if (!m) throw new InvalidArgumentError('invalid join token: expected SWMTKN-1-<50 digits>-<25 digits>, as printed by "docker swarm join-token worker" on a manager');
  return fromBase36(m[1]).toString(16).padStart(64, '0');
}

function fromBase36(s: string): bigint {
  let n = 0n;
  for (const ch of s) n = n * 36n + BigInt(parseInt(ch, 36));
  return n;
}
