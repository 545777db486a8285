/** docker push, save and load on top of the image service. */
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { familiarString, fullString, parseReference, withDefaultTag, type Reference } from '../../src/common/reference.js';
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import { chainIds, sha256, shortId } from './digest.js';
import type { ImageRecord, OnProgress, RegistryAuth } from './index.js';
import { fileStream, readArchive } from './load.js';
import { pushToRegistry } from './push.js';
import { parseRef } from './resolve.js';
import { saveArchive, type SaveItem } from './save.js';
import { repoTagRef, type LocalImageService } from './service.js';

export async function pushImage(svc: LocalImageService, name: string, tag: string | undefined, auth: RegistryAuth | undefined, onProgress: OnProgress): Promise<void> {
  const base = parseRef(name);
  if (base.digest) throw new InvalidArgumentError(`cannot push a digest reference (${name}): push a tag`);
  const tags = tag || base.tag ? [tag || base.tag!] : tagsOfRepo(svc, base);
  if (tags.length === 0) throw new NotFoundError(`An image does not exist locally with the tag: ${familiarString(base)}`);
  const repo = svc.registry.repo(base.domain, base.path, svc.authFor(base.domain, auth), 'pull,push');
  for (const t of tags) {
    const ref = { ...base, tag: t };
    let image: ImageRecord;
    try {
      image = await svc.resolve(fullString(ref));
    } catch (err) {
      if (err instanceof NotFoundError) throw new NotFoundError(`An image does not exist locally with the tag: ${familiarString(ref)}`);
      throw err;
    }
    const meta = svc.meta.get(image.id)!;
    const sources = [...new Set(Object.keys(svc.meta.allRefs()).map((r) => parseReference(r)).filter((r) => r.domain === base.domain && r.path !== base.path).map((r) => r.path))];
    const lease = svc.leases.open();
    try {
      const pushed = await pushToRegistry({ content: svc.content, layers: svc.layers }, repo, ref, image, meta.manifests, sources, onProgress);
      lease.add(pushed.digest);
      await svc.meta.update(image.id, (m) => {
        if (!m.manifests.includes(pushed.digest)) m.manifests.push(pushed.digest);
      });
      await svc.meta.setRefs([[fullString({ ...base, tag: undefined, digest: pushed.digest }), image.id]]);
    } finally {
      lease.close();
    }
    svc.events.emit({ Type: 'image', Action: 'push', Actor: { ID: familiarString(ref), Attributes: { name: familiarString(ref) } } });
  }
}

function tagsOfRepo(svc: LocalImageService, base: Reference): string[] {
  return Object.keys(svc.meta.allRefs())
    .map((r) => parseReference(r))
    .filter((r) => r.domain === base.domain && r.path === base.path && r.tag)
    .map((r) => r.tag!);
}

/** docker save of images by name or id. */
export async function saveImages(svc: LocalImageService, names: string[]): Promise<Readable> {
  const items: SaveItem[] = [];
  for (const n of names) {
    const image = await svc.resolve(n);
    let refs: Reference[] = [];
    if (!/^(sha256:)?[a-f0-9]{6,64}$/.test(n)) {
      const r = withDefaultTag(parseRef(n));
      refs = r.tag ? [r] : [];
    }
    const existing = items.find((i) => i.image.id === image.id);
    if (existing) existing.refs.push(...refs);
    else items.push({ image, refs, manifests: svc.meta.get(image.id)?.manifests ?? [] });
  }
  if (items.length === 0) throw new InvalidArgumentError('docker save needs at least one image');
  return saveArchive({ content: svc.content, layers: svc.layers }, items);
}

/** docker load: returns what was loaded, as docker's progress lines. */
export async function loadImages(svc: LocalImageService, input: Readable, onProgress: OnProgress): Promise<void> {
  await readArchive(input, join(svc.config.dataRoot, 'tmp'), async (img) => {
    const lease = svc.leases.open();
    try {
      const diffIds = img.config.rootfs?.diff_ids ?? [];
      if (!Array.isArray(diffIds) || diffIds.length !== img.layers.length) {
        throw new InvalidArgumentError(`load: the image config lists ${diffIds.length} layers, the archive ${img.layers.length}`);
      }
      const chains = chainIds(diffIds);
      for (let i = 0; i < img.layers.length; i++) {
        lease.add(chains[i]);
        if (svc.layers.has(chains[i])) continue;
        const what = `layer ${i + 1} of the loaded image`;
        onProgress({ status: 'Loading layer', id: shortId(diffIds[i]) });
        const layer = await svc.addLayer(fileStream(img.layers[i].path), i > 0 ? chains[i - 1] : undefined, what, img.layers[i].digest);
        if (layer.diffId !== diffIds[i]) {
          await svc.layers.remove(layer.chainId);
          throw new InvalidArgumentError(`load: ${what} has content ${layer.diffId}, but the image config says ${diffIds[i]}`);
        }
      }
      const manifests: string[] = [];
      if (img.manifest) {
        // Leased before it is stored: a concurrent GC must not take it before the record.
        lease.add(sha256(img.manifest));
        manifests.push((await svc.content.put(img.manifest)).digest);
      }
      const tags = img.tags.map((t) => repoTagRef(t));
      const id = await svc.register(img.config, chains[chains.length - 1], '', tags[0], manifests);
      if (tags.length > 1) await svc.meta.setRefs(tags.slice(1).map((t) => [fullString(t), id]));
      if (tags.length === 0) onProgress({ stream: `Loaded image ID: ${id}\n` });
      for (const t of tags) onProgress({ stream: `Loaded image: ${familiarString(t)}\n` });
      svc.events.emit({ Type: 'image', Action: 'load', Actor: { ID: id, Attributes: { name: tags[0] ? familiarString(tags[0]) : id } } });
    } finally {
      lease.close();
    }
  });
}

/** Image search: a registry's v2 catalog when the term names a host, else Docker Hub's v1 search. */
