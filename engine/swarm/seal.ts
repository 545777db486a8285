/** Secrets at rest: AES-256-GCM under the cluster's data key, as "v1:" + base64(iv|tag|ciphertext). */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';

export const newDataKey = (): Buffer => randomBytes(32);

export function seal(key: Buffer, plain: Buffer): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([c.update(plain), c.final()]);
  return 'v1:' + Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
}

export function unseal(key: Buffer, sealed: string): Buffer {
  if (!sealed.startsWith('v1:')) throw new InvalidArgumentError('sealed secret in an unknown format');
  const raw = Buffer.from(sealed.slice(3), 'base64');
  const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  d.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([d.update(raw.subarray(28)), d.final()]);
}
