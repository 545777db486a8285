/** Finds an image by reference, full id, or unique id prefix, like docker. */
import { familiarString, fullString, parseReference, withDefaultTag, InvalidReferenceError, type Reference } from '../../src/common/reference.js';
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import type { ImageMetaStore } from './store.js';

export function parseRef(s: string): Reference {
  try {
    return parseReference(s);
  } catch (err) {
    if (err instanceof InvalidReferenceError) throw new InvalidArgumentError(err.message);
    throw err;
  }
}

export function findImageId(meta: ImageMetaStore, nameOrId: string): string {
  const s = nameOrId.trim();
  const full = /^(sha256:)?([a-f0-9]{64})$/.exec(s);
  if (full) {
    const id = `sha256:${full[2]}`;
    if (meta.get(id)) return id;
    throw new NotFoundError(`No such image: ${s}`);
  }
  let ref: Reference | undefined;
  let refError: string | undefined;
  try {
    ref = withDefaultTag(parseReference(s));
  } catch (err) {
    if (!(err instanceof InvalidReferenceError)) throw err;
    refError = err.message;
  }
  if (ref) {
    const id = meta.byRef(fullString(ref));
    if (id) return id;
  }
  const prefix = /^(?:sha256:)?([a-f0-9]{1,63})$/.exec(s);
  if (prefix) {
    const matches = meta.all().filter((m) => m.id.startsWith(`sha256:${prefix[1]}`));
    if (matches.length === 1) return matches[0].id;
    if (matches.length > 1) throw new InvalidArgumentError(`image id prefix ${s} is ambiguous: give more characters`);
  }
  if (!ref) throw new InvalidArgumentError(refError ?? `invalid reference format: ${s}`);
  // dockerd names the reference it looked for: "No such image: name:latest".
  throw new NotFoundError(`No such image: ${prefix ? s : familiarString(ref)}`);
}
