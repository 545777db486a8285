/** Manifest, index, config and layer media types. */
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
