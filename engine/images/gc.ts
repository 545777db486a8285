/**
 * Garbage collection: layers no image chain needs, blobs no image, manifest or
 * layer record refers to. Leased ids (work in progress) are kept.
 */
import type { ContentStore } from './content.js';
import type { LayerStore } from './layers.js';
import type { Leases } from './leases.js';
import type { ImageMetaStore } from './store.js';
import { log } from '../log.js';

export interface GcResult {
  layers: string[];
  blobs: string[];
  reclaimed: number;
}

export async function collectGarbage(content: ContentStore, layers: LayerStore, meta: ImageMetaStore, leases: Leases, keepChains: Set<string> = new Set()): Promise<GcResult> {
  const liveBlobs = new Set<string>();
  const liveChains = new Set<string>(keepChains);
  const keepWithParents = async (chainId: string) => {
    for (let cur: string | undefined = chainId; cur; ) {
      liveChains.add(cur);
      try {
        cur = (await layers.info(cur)).parent;
      } catch {
        cur = undefined;
      }
    }
  };
  // A leased chain (a commit not yet registered) needs the chains under it too.
  for (const id of leases.ids()) if (layers.has(id)) await keepWithParents(id);
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
  for (const chain of await layers.list()) {
    if (liveChains.has(chain) || leases.held(chain)) {
      try {
        const b = (await layers.info(chain)).blob;
        if (b) liveBlobs.add(b.digest);
      } catch {
        // A layer without its record is removed below next time.
      }
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
    if (liveBlobs.has(blob.digest) || leases.held(blob.digest)) continue;
    await content.delete(blob.digest);
    result.blobs.push(blob.digest);
  }
  if (result.layers.length || result.blobs.length) log.debug(`gc: removed ${result.layers.length} layers, ${result.blobs.length} blobs`);
  return result;
}

