/** GET /distribution/{name}/json: the registry's descriptor of a reference and its platforms. */
import { withDefaultTag } from '../../src/common/reference.js';
import { UnavailableError } from '../errors.js';
import { sha256 } from './digest.js';
import type { RegistryAuth } from './index.js';
import { parseRef } from './resolve.js';
import { isIndexType, type Index, type Manifest } from './registry/media.js';
import type { LocalImageService } from './service.js';

export interface DistributionInspect {
  Descriptor: { mediaType: string; digest: string; size: number };
  Platforms: Array<{ architecture: string; os: string; variant?: string; 'os.version'?: string; 'os.features'?: string[] }>;
}

/**
 * Clients wait on this before they go on without a digest (docker service create warns
 * and continues): a registry that does not answer is an error in seconds, not after
 * the retries of a pull.
 */
const DEADLINE_MS = 8_000;

export async function distributionInspect(svc: LocalImageService, name: string, auth: RegistryAuth | undefined): Promise<DistributionInspect> {
  const ref = withDefaultTag(parseRef(name));
  const signal = AbortSignal.timeout(DEADLINE_MS);
  try {
    return await inspect(svc, ref, auth, signal);
  } catch (err) {
    if (signal.aborted) throw new UnavailableError(`registry ${ref.domain} is unreachable: no answer within ${DEADLINE_MS / 1000}s`);
    throw err;
  }
}

async function inspect(svc: LocalImageService, ref: ReturnType<typeof withDefaultTag>, auth: RegistryAuth | undefined, signal: AbortSignal): Promise<DistributionInspect> {
  const repo = svc.registry.repo(ref.domain, ref.path, svc.authFor(ref.domain, auth), 'pull');
  const top = await repo.getManifest(ref.digest ?? ref.tag ?? 'latest', signal);
  const Descriptor = { mediaType: top.mediaType, digest: ref.digest ?? top.digest ?? sha256(top.bytes), size: top.bytes.length };
  const doc = JSON.parse(top.bytes.toString('utf8')) as Index & Manifest;
  if (isIndexType(top.mediaType) || Array.isArray(doc.manifests)) {
    return { Descriptor, Platforms: (doc.manifests ?? []).flatMap((m) => (m.platform ? [m.platform as DistributionInspect['Platforms'][number]] : [])) };
  }
  // A single manifest: its platform is in the image config, as dockerd reads it.
  const { stream } = await repo.getBlob(doc.config.digest, signal);
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  const config = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { architecture?: string; os?: string; variant?: string };
  return { Descriptor, Platforms: [{ architecture: config.architecture ?? '', os: config.os ?? '', ...(config.variant ? { variant: config.variant } : {}) }] };
}
