/**
 * Image metadata: images/<id hex>.json per image, and images/index.json mapping
 * full references ("docker.io/library/busybox:latest", "…@sha256:…") to ids.
 * The config JSON itself is a blob in the content store, named by the id.
 * All in memory after init; every change is written atomically.
 */
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../fsutil.js';
import { hexOf, isDigest } from './digest.js';

export interface ImageMeta {
  id: string;
  chainId?: string;
  size: number;
  parent: string;
  created: string;
  lastTagTime?: string;
  /** Manifests (and indexes) this image was pulled or pushed as; their blobs stay referenced. */
  manifests: string[];
}

interface IndexFile {
  /** full reference (tag or digest form) -> image id */
  refs: Record<string, string>;
}

export class ImageMetaStore {
  private readonly images = new Map<string, ImageMeta>();
  private refs: Record<string, string> = {};
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly root: string) {}

  async init(): Promise<void> {
    for (const name of await readdir(this.root)) {
      if (!/^[a-f0-9]{64}\.json$/.test(name)) continue;
      try {
        const meta = JSON.parse(await readFile(join(this.root, name), 'utf8')) as ImageMeta;
        this.images.set(meta.id, meta);
      } catch {
        // A file that doesn't parse can't come from an atomic write: drop it.
        await rm(join(this.root, name), { force: true });
      }
    }
    try {
      this.refs = (JSON.parse(await readFile(join(this.root, 'index.json'), 'utf8')) as IndexFile).refs ?? {};
    } catch {
      this.refs = {};
    }
    for (const [ref, id] of Object.entries(this.refs)) if (!this.images.has(id)) delete this.refs[ref];
  }

  /** Serializes metadata changes. */
  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn, fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  get(id: string): ImageMeta | undefined {
    return this.images.get(id);
  }

  all(): ImageMeta[] {
    return [...this.images.values()];
  }

  byRef(fullRef: string): string | undefined {
    return this.refs[fullRef];
  }

  refsOf(id: string): string[] {
    return Object.entries(this.refs).filter(([, v]) => v === id).map(([k]) => k);
  }

  allRefs(): Record<string, string> {
    return { ...this.refs };
  }

  put(meta: ImageMeta): Promise<void> {
    return this.locked(async () => {
      if (!isDigest(meta.id)) throw new Error(`bad image id ${meta.id}`);
      await writeJsonAtomic(join(this.root, `${hexOf(meta.id)}.json`), meta);
      this.images.set(meta.id, meta);
    });
  }

  update(id: string, change: (m: ImageMeta) => void): Promise<void> {
    return this.locked(async () => {
      const cur = this.images.get(id);
      if (!cur) return;
      const next = structuredClone(cur);
      change(next);
      await writeJsonAtomic(join(this.root, `${hexOf(id)}.json`), next);
      this.images.set(id, next);
    });
  }

  /** Points refs at id; returns the ids they pointed to before. */
  setRefs(entries: Array<[string, string]>): Promise<string[]> {
    return this.locked(async () => {
      const previous: string[] = [];
      const next = { ...this.refs };
      for (const [ref, id] of entries) {
        if (next[ref] && next[ref] !== id) previous.push(next[ref]);
        next[ref] = id;
      }
      await writeJsonAtomic(join(this.root, 'index.json'), { refs: next } satisfies IndexFile);
      this.refs = next;
      return previous;
    });
  }

  deleteRefs(refs: string[]): Promise<void> {
    return this.locked(async () => {
      const next = { ...this.refs };
      for (const r of refs) delete next[r];
      await writeJsonAtomic(join(this.root, 'index.json'), { refs: next } satisfies IndexFile);
      this.refs = next;
    });
  }

  delete(id: string): Promise<void> {
    return this.locked(async () => {
      const next = Object.fromEntries(Object.entries(this.refs).filter(([, v]) => v !== id));
      await writeJsonAtomic(join(this.root, 'index.json'), { refs: next } satisfies IndexFile);
      this.refs = next;
      await rm(join(this.root, `${hexOf(id)}.json`), { force: true });
      this.images.delete(id);
    });
  }
}
