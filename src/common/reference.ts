/**
 * Image references parsed like docker's distribution/reference: docker.io and
 * library/ defaults, tags, digests, registry hosts with ports. Shared by the CLI
 * and the engine, so it depends on nothing.
 */
export class InvalidReferenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidReferenceError';
  }
}

export interface Reference {
  /** Registry host[:port], normalized: "docker.io" for Docker Hub. */
  domain: string;
  /** Repository path inside the registry: "library/busybox". */
  path: string;
  tag?: string;
  /** "sha256:<hex>". */
  digest?: string;
}

export const DEFAULT_DOMAIN = 'docker.io';
export const DEFAULT_TAG = 'latest';
const LEGACY_DOMAIN = 'index.docker.io';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const SHA256 = /^sha256:[a-f0-9]{64}$/;
const ID = /^[a-f0-9]{64}$/;
const NAME_MAX = 255;

/** Parses "busybox", "localhost:5000/a/b:tag", "x@sha256:…" into a normalized reference. */
export function parseReference(input: string): Reference {
  const s = input.trim();
  if (!s) throw new InvalidReferenceError('invalid reference format: empty image name');
  if (ID.test(s)) {
    throw new InvalidReferenceError(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new InvalidReferenceError(`invalid reference format: bad digest "${digest}" in ${input}`);
    if (digest.startsWith('sha256:') && !SHA256.test(digest)) throw new InvalidReferenceError(`invalid reference format: sha256 digest must be 64 lowercase hex characters in ${input}`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new InvalidReferenceError(`invalid reference format: bad tag "${tag}" in ${input}`);
  }
  const parts = rest.split('/');
  let domain = DEFAULT_DOMAIN;
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost' || parts[0] !== parts[0].toLowerCase())) {
    domain = parts.shift()!;
    if (!DOMAIN.test(domain)) throw new InvalidReferenceError(`invalid reference format: bad registry host "${domain}" in ${input}`);
  }
  if (domain === LEGACY_DOMAIN) domain = DEFAULT_DOMAIN;
  for (const c of parts) {
    if (!COMPONENT.test(c)) {
      if (c !== c.toLowerCase()) throw new InvalidReferenceError(`invalid reference format: repository name (${rest}) must be lowercase`);
      throw new InvalidReferenceError(`invalid reference format: "${c}" in ${input} (use lowercase letters, digits and . _ - separators)`);
    }
  }
  if (domain === DEFAULT_DOMAIN && parts.length === 1) parts.unshift('library');
  const path = parts.join('/');
  if (domain.length + 1 + path.length > NAME_MAX) throw new InvalidReferenceError(`invalid reference format: repository name longer than ${NAME_MAX} characters`);
  return { domain, path, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** Adds the default tag when neither tag nor digest is given. */
export function withDefaultTag(ref: Reference): Reference {
  return ref.tag || ref.digest ? ref : { ...ref, tag: DEFAULT_TAG };
}

/** "docker.io/library/busybox". */
export function fullName(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** "busybox", "foo/bar", "localhost:5000/x": how docker shows repository names. */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return fullName(ref);
  return ref.path.startsWith('library/') && ref.path.split('/').length === 2 ? ref.path.slice('library/'.length) : ref.path;
}

/** "busybox:latest", "x@sha256:…": how docker shows a reference. */
export function familiarString(ref: Reference): string {
  return familiarName(ref) + (ref.tag ? `:${ref.tag}` : '') + (ref.digest ? `@${ref.digest}` : '');
}

/** "docker.io/library/busybox:latest". */
export function fullString(ref: Reference): string {
  return fullName(ref) + (ref.tag ? `:${ref.tag}` : '') + (ref.digest ? `@${ref.digest}` : '');
}

export function isTag(s: string): boolean {
  return TAG.test(s);
}
