/**
 * Push: layer blobs (skipped when the registry has them, mounted across
 * repositories of the same registry when possible, else uploaded in chunks),
 * config, then the manifest under the tag.
 */
import { familiarName, type Reference } from '../../src/common/reference.js';
import { InvalidArgumentError } from '../errors.js';
import type { ContentStore } from './content.js';
import { shortId } from './digest.js';
import type { ImageRecord, OnProgress } from './index.js';
import type { LayerStore } from './layers.js';
import { byteProgress } from './progress.js';
import type { RepoClient } from './registry/client.js';
import { DOCKER_CONFIG, DOCKER_LAYER, DOCKER_MANIFEST, OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST, type Descriptor } from './registry/media.js';

const CHUNK = 8 << 20;

export interface PushDeps {
  content: ContentStore;
  layers: LayerStore;
}

/** The image's manifest: a stored one that fits, or one built from the layer blobs. */
export async function manifestFor(deps: PushDeps, image: ImageRecord, manifests: string[]): Promise<{ bytes: Buffer; mediaType: string; layers: Descriptor[] }> {
  for (const d of manifests) {
    try {
      const bytes = await deps.content.read(d);
      const doc = JSON.parse(bytes.toString('utf8'));
      if (doc.config?.digest === image.id && Array.isArray(doc.layers)) return { bytes, mediaType: doc.mediaType ?? OCI_MANIFEST, layers: doc.layers };
    } catch {
      // Not usable: build one.
    }
  }
  const layers: Descriptor[] = [];
  for (let cur = image.chainId; cur; ) {
    const info = await deps.layers.info(cur);
    if (!info.blob) throw new InvalidArgumentError(`layer ${info.diffId} of ${image.id} has no stored blob to push`);
    layers.unshift({ mediaType: info.blob.mediaType, digest: info.blob.digest, size: info.blob.size });
    cur = info.parent;
  }
  const allGzip = layers.every((l) => l.mediaType === DOCKER_LAYER || l.mediaType === OCI_LAYER_GZIP || l.mediaType.endsWith('diff.tar.gzip'));
  const docker = allGzip;
  const config = await deps.content.read(image.id);
  const doc = {
    schemaVersion: 2,
    mediaType: docker ? DOCKER_MANIFEST : OCI_MANIFEST,
    config: { mediaType: docker ? DOCKER_CONFIG : OCI_CONFIG, digest: image.id, size: config.length },
    layers: layers.map((l) => ({ ...l, mediaType: docker ? DOCKER_LAYER : l.mediaType })),
  };
  const bytes = Buffer.from(JSON.stringify(doc, null, 3));
  return { bytes, mediaType: doc.mediaType, layers: doc.layers };
}

export async function pushToRegistry(
  deps: PushDeps,
  repo: RepoClient,
  ref: Reference & { tag: string },
  image: ImageRecord,
  manifests: string[],
  mountSources: string[],
  onProgress: OnProgress,
): Promise<{ digest: string; size: number; manifestBytes: Buffer }> {
  onProgress({ status: `The push refers to repository [${familiarName(ref)}]` });
  const m = await manifestFor(deps, image, manifests);
  const blobs: Descriptor[] = [...m.layers].reverse();
  for (const l of blobs) onProgress({ status: 'Preparing', id: shortId(l.digest) });
  for (const l of blobs) {
    const id = shortId(l.digest);
    if (await repo.blobExists(l.digest)) {
      onProgress({ status: 'Layer already exists', id });
      continue;
    }
    let mounted = false;
    for (const from of mountSources) {
      if (from === ref.path) continue;
      if (await repo.mountBlob(l.digest, from)) {
        onProgress({ status: `Mounted from ${from}`, id });
        mounted = true;
        break;
      }
    }
    if (mounted) continue;
    if (!(await deps.content.info(l.digest))) throw new InvalidArgumentError(`layer blob ${l.digest} is not in the content store`);
    const report = byteProgress(onProgress, id, 'Pushing', l.size);
    await repo.uploadBlob(chunks(deps.content, l.digest), l.digest, report);
    onProgress({ status: 'Pushed', id });
  }
  if (!(await repo.blobExists(image.id))) await repo.uploadBlob(chunks(deps.content, image.id), image.id);
  await repo.putManifest(ref.tag, m.mediaType, m.bytes);
  const stored = await deps.content.put(m.bytes);
  onProgress({ status: `${ref.tag}: digest: ${stored.digest} size: ${m.bytes.length}` });
  onProgress({ progressDetail: {}, aux: { Tag: ref.tag, Digest: stored.digest, Size: m.bytes.length } });
  return { digest: stored.digest, size: m.bytes.length, manifestBytes: m.bytes };
}

async function* chunks(content: ContentStore, digest: string): AsyncIterable<Buffer> {
  let buf: Buffer[] = [];
  let n = 0;
  for await (const c of content.reader(digest)) {
    buf.push(c as Buffer);
    n += (c as Buffer).length;
    if (n >= CHUNK) {
      yield Buffer.concat(buf);
      buf = [];
      n = 0;
    }
  }
  if (n > 0) yield Buffer.concat(buf);
}
