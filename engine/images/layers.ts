/**
 * Layer store: each layer unpacked once, in overlay form, under
 * layers/<chain-id hex>/{diff/,layer.json}, shared by every image that has it.
 * A layer is unpacked into layers/.partial-*, and renamed into place only once
 * whole and its diff id verified; leftovers of a crash are removed at start.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import { writeJsonAtomic } from '../fsutil.js';
import { chainIds, hexOf, isDigest, sha256 } from './digest.js';
import { unpackLayerNative } from './unpack-native.js';
import { now, traceRecord, tracing } from '../trace.js';

export interface LayerInfo {
  chainId: string;
  diffId: string;
  /** Chain id of the layer below, undefined at the bottom. */
  parent?: string;
  /** Bytes of file content in this layer. */
  size: number;
  /** The exact layer blob this was unpacked from (kept in the content store, for push and save). */
  blob?: { digest: string; size: number; mediaType: string };
}

/** What snapshotters need: the directories of a chain, top first. */
export interface LayerDirs {
  lowerDirs(chainId: string): Promise<string[]>;
}

export class LayerStore implements LayerDirs {
  private readonly inflight = new Map<string, Promise<LayerInfo>>();
  /** lowerDirs of each chain asked for (layers don't change; remove() forgets them all). */
  private readonly lowers = new Map<string, string[]>();

  constructor(private readonly root: string) {}

  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    for (const name of await readdir(this.root)) {
      if (name.startsWith('.partial-')) await rm(join(this.root, name), { recursive: true, force: true });
    }
  }

  private dir(chainId: string): string {
    if (!isDigest(chainId)) throw new InvalidArgumentError(`invalid chain id ${chainId}`);
    return join(this.root, hexOf(chainId));
  }

  has(chainId: string): boolean {
    return existsSync(join(this.dir(chainId), 'layer.json'));
  }

  async info(chainId: string): Promise<LayerInfo> {
    try {
      return JSON.parse(await readFile(join(this.dir(chainId), 'layer.json'), 'utf8')) as LayerInfo;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`layer ${chainId} not found`);
      throw err;
    }
  }

  /**
   * Short paths (layers/l/<12 hex>, a symlink to the diff dir) keep overlay's
   * lowerdir option under the kernel's page-size limit for deep images (~100
   * layers under /var/lib/berth). A prefix taken by another layer falls back to
   * the full path.
   */
  async lowerDirs(chainId: string): Promise<string[]> {
    const known = this.lowers.get(chainId);
    if (known) return [...known];
    const out: string[] = [];
    let cur: string | undefined = chainId;
    while (cur) {
      const info = await this.info(cur);
      out.push(this.shortLink(cur));
      cur = info.parent;
    }
    this.lowers.set(chainId, out);
    return [...out];
  }

  private shortLink(chainId: string): string {
    const link = join(this.root, 'l', hexOf(chainId).slice(0, 12));
    const target = `../${hexOf(chainId)}/diff`;
    try {
      if (readlinkSync(link) === target) return link;
      return join(this.dir(chainId), 'diff');
    } catch {
      // No link yet: make it.
    }
    mkdirSync(join(this.root, 'l'), { recursive: true });
    try {
      symlinkSync(target, link);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (readlinkSync(link) !== target) return join(this.dir(chainId), 'diff');
    }
    return link;
  }

  /** Sum of content bytes along a chain. */
  async chainSize(chainId: string | undefined): Promise<number> {
    let n = 0;
    for (let cur = chainId; cur; ) {
      const info = await this.info(cur);
      n += info.size;
      cur = info.parent;
    }
    return n;
  }

  /**
   * Unpacks `tar` (compressed or not) as the layer on top of `parent`. With
   * `expectedDiffId`, the chain id is known ahead and a present layer is reused;
   * without (commit, import), the diff id is learnt while unpacking.
   */
  async apply(tar: () => Readable, parent: string | undefined, expectedDiffId: string | undefined, what: string, blob?: LayerInfo['blob'], gate?: Promise<unknown>): Promise<LayerInfo> {
    if (expectedDiffId) {
      const chainId = parent ? sha256(`${parent} ${expectedDiffId}`) : expectedDiffId;
      if (this.has(chainId)) return this.info(chainId);
      const running = this.inflight.get(chainId);
      if (running) return running;
      const p = this.unpack(tar, parent, expectedDiffId, what, blob, gate).finally(() => this.inflight.delete(chainId));
      this.inflight.set(chainId, p);
      return p;
    }
    return this.unpack(tar, parent, undefined, what, blob, gate);
  }

  /** True when the layer on top of `parent` with this diff id is being unpacked or present. */
  busyOrPresent(parent: string | undefined, diffId: string): boolean {
    const chainId = parent ? sha256(`${parent} ${diffId}`) : diffId;
    return this.inflight.has(chainId) || this.has(chainId);
  }

  /** Records the blob a layer can be pushed or saved as. */
  async setBlob(chainId: string, blob: NonNullable<LayerInfo['blob']>): Promise<void> {
    const info = await this.info(chainId);
    await writeJsonAtomic(join(this.dir(chainId), 'layer.json'), { ...info, blob });
  }

  /** `gate` (e.g. the blob's digest check, running alongside) must succeed before the layer is committed. */
  private async unpack(tar: () => Readable, parent: string | undefined, expectedDiffId: string | undefined, what: string, blob?: LayerInfo['blob'], gate?: Promise<unknown>): Promise<LayerInfo> {
    const partial = join(this.root, `.partial-${randomBytes(8).toString('hex')}`);
    try {
      const [unpacked, gated] = await Promise.allSettled([unpackLayerNative(tar(), join(partial, 'diff'), what), gate]);
      // The blob's own error (digest, size) explains an unpack failure better than "unexpected end of file".
      if (gated.status === 'rejected') throw gated.reason;
      if (unpacked.status === 'rejected') throw unpacked.reason;
      const { diffId, size } = unpacked.value;
      const committing = now();
      if (expectedDiffId && diffId !== expectedDiffId) {
        throw new InvalidArgumentError(`${what}: uncompressed content ${diffId} does not match the image config's diff id ${expectedDiffId}`);
      }
      const chainId = parent ? sha256(`${parent} ${diffId}`) : diffId;
      const info: LayerInfo = { chainId, diffId, ...(parent ? { parent } : {}), size, ...(blob ? { blob } : {}) };
      await writeJsonAtomic(join(partial, 'layer.json'), info);
      if (this.has(chainId)) {
        await rm(partial, { recursive: true, force: true });
        return this.info(chainId);
      }
      await rename(partial, this.dir(chainId));
      if (tracing) traceRecord('layer: commit', chainId, committing);
      return info;
    } catch (err) {
      await rm(partial, { recursive: true, force: true });
      throw err;
    }
  }

  async list(): Promise<string[]> {
    const out: string[] = [];
    for (const name of await readdir(this.root)) {
      if (/^[a-f0-9]{64}$/.test(name)) out.push(`sha256:${name}`);
    }
    return out;
  }

  async remove(chainId: string): Promise<void> {
    this.lowers.clear();
    // Rename first so a crash mid-delete leaves a partial dir (cleaned at start), never a half layer.
    const dir = this.dir(chainId);
    const link = join(this.root, 'l', hexOf(chainId).slice(0, 12));
    try {
      if (readlinkSync(link) === `../${hexOf(chainId)}/diff`) rmSync(link, { force: true });
    } catch {
      // No short link was made for this layer.
    }
    const doomed = join(this.root, `.partial-rm-${randomBytes(8).toString('hex')}`);
    try {
      await rename(dir, doomed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    await rm(doomed, { recursive: true, force: true });
  }

  /** The diff dir of one layer, for diff/export of committed layers. */
  diffDir(chainId: string): string {
    return join(this.dir(chainId), 'diff');
  }
}

export function topChainId(diffIds: string[]): string | undefined {
  const ids = chainIds(diffIds);
  return ids[ids.length - 1];
}
