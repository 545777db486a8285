/** sha256 digests and chain ids. */
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';

const SHA256 = /^sha256:[a-f0-9]{64}$/;

export function isDigest(s: string): boolean {
  return SHA256.test(s);
}

export function assertDigest(s: string, what: string): string {
  if (!isDigest(s)) throw new InvalidArgumentError(`${what}: invalid digest ${JSON.stringify(s)} (want sha256:<64 hex>)`);
  return s;
}

export function hexOf(digest: string): string {
  return digest.slice('sha256:'.length);
}

export function sha256(data: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** OCI chain ids: chain(0) = diff(0); chain(n) = sha256(chain(n-1) + " " + diff(n)). */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(out.length === 0 ? d : sha256(`${out[out.length - 1]} ${d}`));
  return out;
}

export function shortId(digest: string): string {
  return hexOf(digest).slice(0, 12);
}
