/**
 * Garbage collection: layers no image chain needs, blobs no image, manifest or
 * layer record refers to. Leased ids (work in progress) are kept.
 */
import type { ContentStore } from './content.js';
import type { LayerStore } from './layers.js';
import type { LeaseWatch, Leases } from './leases.js';
import type { ImageMetaStore } from './store.js';
import { log } from '../log.js';

export interface GcResult {
  layers: string[];
  blobs: string[];
  reclaimed: number;
}

export async function collectGarbage(content: ContentStore, layers: LayerStore, meta: ImageMetaStore, leases: Leases, keepChains: Set<string> = new Set()): Promise<GcResult> {
  // Started before the records are read: whatever is registered meanwhile was leased meanwhile.
  const watch = leases.watch();
  try {
    return await collect(content, layers, meta, watch, keepChains);
  } finally {
    watch.stop();
  }
}

async function collect(content: ContentStore, layers: LayerStore, meta: ImageMetaStore, watch: LeaseWatch, keepChains: Set<string>): Promise<GcResult> {
  const liveBlobs = new Set<string>();
  const liveChains = new Set<string>();
  const keepWithParents = async (chainId: string) => {
    for (let cur: string | undefined = chainId; cur && !liveChains.has(cur); ) {
      liveChains.add(cur);
      try {
        cur = (await layers.info(cur)).parent;
      } catch {
        cur = undefined;
      }
    }
  };
  for (const c of keepChains) await keepWithParents(c);
  // A leased chain (a commit not yet registered) needs the chains under it too; more
  // may be leased while this runs, so this is asked again before each removal.
  const expanded = new Set<string>();
  const keepLeased = async () => {
    for (const id of watch.seen) {
      if (expanded.has(id)) continue;
      expanded.add(id);
      if (layers.has(id)) await keepWithParents(id);
    }
  };
  await keepLeased();
  for (const img of meta.all()) {
    liveBlobs.add(img.id);
    for (const m of img.manifests) {
      liveBlobs.add(m);
      try {
        const doc = JSON.parse((await content.read(m)).toString('utf8'));
        if (doc.config?.digest) liveBlobs.add(doc.config.digest);
        for (const l of doc.layers ?? []) liveBlobs.add(l.digest);
        for (const x of doc.manifests ?? []) liveBlobs.add(x.digest);
      } catch {
        // Manifest blob missing: nothing more it can keep alive.
      }
    }
    if (img.chainId) await keepWithParents(img.chainId);
  }
  // Manifest lists keep every referenced manifest, but only the pulled platform's blobs exist.
  const result: GcResult = { layers: [], blobs: [], reclaimed: 0 };
  const keptLayerBlob = async (chain: string) => {
    try {
      const b = (await layers.info(chain)).blob;
      if (b) liveBlobs.add(b.digest);
    } catch {
      // A layer without its record is removed below next time.
    }
  };
  for (const chain of await layers.list()) {
    await keepLeased();
    if (liveChains.has(chain)) {
      await keptLayerBlob(chain);
      continue;
    }
    try {
      result.reclaimed += (await layers.info(chain)).size;
    } catch {
      // Unreadable record: remove anyway.
    }
    await layers.remove(chain);
    result.layers.push(chain);
  }
  for await (const blob of content.walk()) {
    if (liveBlobs.has(blob.digest) || watch.seen.has(blob.digest)) continue;
    await content.delete(blob.digest);
    result.blobs.push(blob.digest);
  }
  if (result.layers.length || result.blobs.length) log.debug(`gc: removed ${result.layers.length} layers, ${result.blobs.length} blobs`);
  return result;
}
