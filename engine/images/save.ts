/**
 * docker save: a docker-archive (manifest.json, repositories) with an OCI image
 * layout inside (oci-layout, index.json, blobs/sha256/*), as docker 25+ writes.
 * Layers are the stored blobs, so their digests match the manifests.
 */
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type TarStream from 'tar-stream';
import { tarStream } from './tarlib.js';
import { familiarName, familiarString, type Reference } from '../../src/common/reference.js';
import { hexOf } from './digest.js';
import type { ImageRecord } from './index.js';
import { manifestFor, type PushDeps } from './push.js';

export interface SaveItem {
  image: ImageRecord;
  /** References asked for (tag form), empty when saved by id. */
  refs: Reference[];
  manifests: string[];
}

export function saveArchive(deps: PushDeps, items: SaveItem[]): Readable {
  const out = new PassThrough();
  let pack: TarStream.Pack;
  const added = new Set<string>();
  const addFile = (name: string, data: Buffer) =>
    new Promise<void>((resolve, reject) => pack.entry({ name, size: data.length, mode: 0o644, mtime: new Date(0) }, data, (e) => (e ? reject(e) : resolve())));
  const addBlob = async (digest: string) => {
    if (added.has(digest)) return;
    added.add(digest);
    const info = await deps.content.info(digest);
    if (!info) throw new Error(`blob ${digest} missing from the content store`);
    const entry = pack.entry({ name: `blobs/sha256/${hexOf(digest)}`, size: info.size, mode: 0o644, mtime: new Date(0) });
    await pipeline(deps.content.reader(digest), entry);
  };
  const run = async () => {
    pack = (await tarStream()).pack();
    pack.on('error', (err) => out.destroy(err));
    pack.pipe(out);
    await addFile('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
    const dockerManifest: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = [];
    const index: Array<Record<string, unknown>> = [];
    const repositories: Record<string, Record<string, string>> = {};
    for (const { image, refs, manifests } of items) {
      const m = await manifestFor(deps, image, manifests);
      await addBlob(image.id);
      for (const l of m.layers) await addBlob(l.digest);
      const stored = await deps.content.put(m.bytes);
      await addBlob(stored.digest);
      const tags = refs.filter((r) => r.tag).map(familiarString);
      dockerManifest.push({ Config: `blobs/sha256/${hexOf(image.id)}`, RepoTags: tags.length ? tags : null, Layers: m.layers.map((l) => `blobs/sha256/${hexOf(l.digest)}`) });
      const topLayer = m.layers[m.layers.length - 1];
      for (const r of refs.filter((x) => x.tag)) {
        (repositories[familiarName(r)] ??= {})[r.tag!] = topLayer ? hexOf(topLayer.digest) : hexOf(image.id);
        index.push({
          mediaType: m.mediaType,
          digest: stored.digest,
          size: m.bytes.length,
          annotations: { 'io.containerd.image.name': `${r.domain}/${r.path}:${r.tag}`, 'org.opencontainers.image.ref.name': r.tag },
        });
      }
      if (!refs.some((r) => r.tag)) index.push({ mediaType: m.mediaType, digest: stored.digest, size: m.bytes.length });
    }
    await addFile('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: index })));
    await addFile('manifest.json', Buffer.from(JSON.stringify(dockerManifest)));
    if (Object.keys(repositories).length) await addFile('repositories', Buffer.from(JSON.stringify(repositories)));
    pack.finalize();
  };
  run().catch((err) => (pack ? pack.destroy(err) : out.destroy(err)));
  return out;
}

