/**
 * The build cache, keyed as docker's classic builder keys it: the parent image id
 * and the step's description (its history created_by, which holds the instruction,
 * the build args it used, and for COPY/ADD the checksum of the copied content),
 * plus what the description leaves out (the RUN environment, COPY flags).
 *
 * Local entries live in data-root/build/cache/<key> (the image id); a hit counts
 * only while that image still exists with that parent. With --cache-from, docker's
 * rules: a local hit must be an ancestor of one of the given images, and a step
 * can be restored from a given image whose history continues the parent's.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Engine } from '../engine.js';
import { writeFileAtomic } from '../fsutil.js';
import type { ImageConfig, ImageRecord } from '../images/index.js';

export function cacheKey(parentId: string, createdBy: string, extra: unknown): string {
  return createHash('sha256').update(JSON.stringify([parentId, createdBy, extra])).digest('hex');
}

export class BuildCache {
  private readonly dir: string;
  private sources: ImageRecord[] = [];
  private useSources = false;

  constructor(private readonly engine: Engine) {
    this.dir = join(engine.config.dataRoot, 'build', 'cache');
  }

  /** The images given as --cache-from (those that exist; the others are skipped, as docker does). */
  async withSources(refs: string[], warn: (m: string) => void): Promise<void> {
    if (!refs.length) return;
    this.useSources = true;
    for (const r of refs) {
      try {
        this.sources.push(await this.engine.images.resolve(r));
      } catch {
        warn(`Could not look up ${r} for cache resolution, skipping\n`);
      }
    }
  }

  async lookup(key: string, parent: ImageRecord | undefined, createdBy: string, config: ImageConfig['config']): Promise<string | undefined> {
    const local = await this.local(key, parent?.id ?? '');
    if (local && (!this.useSources || (await this.isAncestorOfSource(local)))) return local;
    if (this.useSources) return this.restore(parent, createdBy, config);
    return undefined;
  }

  async store(key: string, imageId: string): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    writeFileAtomic(join(this.dir, key), imageId);
  }

  /** Remembered checksums of COPY --from sources, by image id + sources. */
  async memo(key: string): Promise<string | undefined> {
    try {
      return (await readFile(join(this.dir, '..', 'sums', key), 'utf8')).trim() || undefined;
    } catch {
      return undefined;
    }
  }

  async remember(key: string, summary: string): Promise<void> {
    writeFileAtomic(join(this.dir, '..', 'sums', key), summary);
  }

  private async local(key: string, parentId: string): Promise<string | undefined> {
    let id: string;
    try {
      id = (await readFile(join(this.dir, key), 'utf8')).trim();
    } catch {
      return undefined;
    }
    try {
      const img = await this.engine.images.resolve(id);
      return img.parent === parentId || (!parentId && !img.parent) ? img.id : undefined;
    } catch {
      return undefined;
    }
  }

  private async isAncestorOfSource(id: string): Promise<boolean> {
    for (const s of this.sources) {
      let cur: string | undefined = s.id;
      for (let depth = 0; cur && depth < 1000; depth++) {
        if (cur === id) return true;
        try {
          cur = (await this.engine.images.resolve(cur)).parent || undefined;
        } catch {
          cur = undefined;
        }
      }
    }
    return false;
  }

  /** docker's restoreCachedImage: the next history entry (and layer) of a --cache-from image. */
  private async restore(parent: ImageRecord | undefined, createdBy: string, config: ImageConfig['config']): Promise<string | undefined> {
    const ph = parent?.config.history ?? [];
    const pd = parent?.config.rootfs.diff_ids ?? [];
    for (const target of this.sources) {
      const th = target.config.history ?? [];
      const td = target.config.rootfs.diff_ids;
      if (th.length <= ph.length || td.length < pd.length) continue;
      if (!ph.every((h, i) => JSON.stringify(h) === JSON.stringify(th[i]))) continue;
      if (!pd.every((d, i) => d === td[i])) continue;
      const next = th[ph.length];
      if (next.created_by !== createdBy) continue;
      if (th.length === ph.length + 1 && parent) {
        // The whole image: it is the step's result as it is.
        return target.id;
      }
      const layersBefore = th.slice(0, ph.length).filter((h) => !h.empty_layer).length;
      const diffIds = [...pd, ...(next.empty_layer ? [] : [td[layersBefore]])];
      const img: ImageConfig = {
        architecture: target.config.architecture,
        os: target.config.os,
        ...(target.config.author ? { author: target.config.author } : {}),
        created: next.created,
        config,
        rootfs: { type: 'layers', diff_ids: diffIds },
        history: [...ph, next],
      };
      this.sources = [target];
      return this.engine.images.createFromConfig(img, parent?.id ?? '');
    }
    return undefined;
  }
}
