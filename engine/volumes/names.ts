import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** docker's rule for volume names; it keeps names from escaping data-root/volumes. */
export function validateVolumeName(name: string): void {
  if (!NAME_RE.test(name) || name.includes('..')) {
    throw new InvalidArgumentError(`invalid volume name "${name}": use at least two of letters, digits, "_", "." and "-", starting with a letter or digit (no "/" or "..")`);
  }
}

export function anonymousName(): string {
  return randomBytes(32).toString('hex');
}
