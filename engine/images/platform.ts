/** Platform selection for manifest lists / OCI indexes. */
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import { goArch } from '../host.js';
import type { Descriptor } from './registry/media.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export function hostPlatform(): Platform {
  return { os: 'linux', architecture: goArch(), ...(goArch() === 'arm64' ? { variant: 'v8' } : {}) };
}

export function parsePlatform(s: string | undefined): Platform {
  if (!s) return hostPlatform();
  const [os, architecture, variant] = s.split('/');
  if (!os || !architecture) throw new InvalidArgumentError(`platform ${JSON.stringify(s)}: use os/arch[/variant], e.g. linux/amd64`);
  return { os, architecture, ...(variant ? { variant } : {}) };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/**
 * As dockerd's image lookup with a platform (create ?platform=, API 1.41+): the image found
 * must be of the platform asked for, else a 404 that names both.
 */
export function requireImagePlatform(ref: string, image: Platform, want: Platform): void {
  const have = { os: image.os, architecture: image.architecture, variant: image.variant };
  if (have.os !== want.os || have.architecture !== want.architecture || (want.variant && have.variant !== want.variant)) {
    throw new NotFoundError(`image with reference ${ref} was found but does not match the specified platform: wanted ${formatPlatform(want)}, actual: ${formatPlatform(have)}`);
  }
}

export function selectManifest(manifests: Descriptor[], want: Platform, name: string): Descriptor {
  const candidates = manifests.filter((m) => m.platform && m.platform.os === want.os && m.platform.architecture === want.architecture);
  const exact = candidates.find((m) => (m.platform!.variant ?? '') === (want.variant ?? ''));
  const pick = exact ?? candidates.find((m) => !want.variant || !m.platform!.variant) ?? candidates[0];
  if (!pick) {
    const have = manifests.filter((m) => m.platform).map((m) => formatPlatform(m.platform!)).join(', ');
    throw new NotFoundError(`no matching manifest for ${formatPlatform(want)} in the manifest list entries of ${name} (it has: ${have || 'none'})`);
  }
  return pick;
}
