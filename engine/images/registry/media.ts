/** Manifest, index, config and layer media types, and the shape checks of manifests and indexes. */
import { InvalidArgumentError } from '../../errors.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const SCHEMA1 = ['application/vnd.docker.distribution.manifest.v1+prettyjws', 'application/vnd.docker.distribution.manifest.v1+json'];
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';

/** Every registry quirk in one header: ask for all four, or get 404s and schema1. */
export const MANIFEST_ACCEPT = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST].join(', ');

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
  urls?: string[];
}

export interface Manifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface Index {
  schemaVersion: number;
  mediaType?: string;
  manifests: Descriptor[];
}

export function isIndexType(mt: string): boolean {
  return mt === OCI_INDEX || mt === DOCKER_LIST;
}

export function isManifestType(mt: string): boolean {
  return mt === OCI_MANIFEST || mt === DOCKER_MANIFEST;
}

/** The media type of a manifest document: its header, else its own field, else its shape. */
export function sniffMediaType(headerType: string | null, bytes: Buffer): string {
  const ht = (headerType ?? '').split(';')[0].trim();
  if (ht && ht !== 'application/json' && ht !== 'application/octet-stream' && ht !== 'text/plain') return ht;
  try {
    const doc = JSON.parse(bytes.toString('utf8'));
    if (typeof doc.mediaType === 'string') return doc.mediaType;
    if (doc.schemaVersion === 1) return SCHEMA1[0];
    if (Array.isArray(doc.manifests)) return OCI_INDEX;
    if (doc.config) return OCI_MANIFEST;
  } catch {
    // Not JSON: reported by the caller.
  }
  return ht;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A descriptor as the rest of the engine relies on it: a sha256 digest, a size, string fields. */
function checkDescriptor(d: unknown, what: string): asserts d is Descriptor {
  if (!isObj(d)) throw new InvalidArgumentError(`${what}: a descriptor is not an object`);
  if (typeof d.digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(d.digest)) throw new InvalidArgumentError(`${what}: invalid digest ${JSON.stringify(d.digest)} (want sha256:<64 hex>)`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw new InvalidArgumentError(`${what}: invalid size ${JSON.stringify(d.size)} for ${d.digest}`);
  if (d.mediaType !== undefined && typeof d.mediaType !== 'string') throw new InvalidArgumentError(`${what}: the media type of ${d.digest} is not a string`);
  if (d.platform !== undefined && (!isObj(d.platform) || typeof d.platform.os !== 'string' || typeof d.platform.architecture !== 'string'
    || (d.platform.variant !== undefined && typeof d.platform.variant !== 'string'))) {
    throw new InvalidArgumentError(`${what}: the platform of ${d.digest} is not {os, architecture} strings`);
  }
  if (d.annotations !== undefined && (!isObj(d.annotations) || Object.values(d.annotations).some((v) => typeof v !== 'string'))) {
    throw new InvalidArgumentError(`${what}: the annotations of ${d.digest} are not strings`);
  }
}

/** Parses an image index / manifest list and checks its shape; `what` names it in errors. */
export function parseIndex(bytes: Buffer, what: string): Index {
  const doc = parseDocument(bytes, what);
  if (!Array.isArray(doc.manifests)) throw new InvalidArgumentError(`${what}: no manifests array`);
  doc.manifests.forEach((d) => checkDescriptor(d, what));
  return doc as unknown as Index;
}

/** Parses an image manifest and checks its shape. */
export function parseManifest(bytes: Buffer, what: string): Manifest {
  const doc = parseDocument(bytes, what);
  if (doc.config === undefined || !Array.isArray(doc.layers)) throw new InvalidArgumentError(`${what}: missing config or layers`);
  checkDescriptor(doc.config, what);
  doc.layers.forEach((d) => checkDescriptor(d, what));
  return doc as unknown as Manifest;
}

function parseDocument(bytes: Buffer, what: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new InvalidArgumentError(`${what}: invalid JSON (${(err as Error).message})`);
  }
  if (!isObj(doc)) throw new InvalidArgumentError(`${what}: not a JSON object`);
  return doc;
}
