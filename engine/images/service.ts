/**
 * The image service: ties content store, layer store, metadata, registry
 * client and GC together behind ImageService.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { familiarString, fullString, parseReference, withDefaultTag, isTag, type Reference } from '../../src/common/reference.js';
import type { DaemonConfig } from '../config.js';
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import type { EventBus } from '../events.js';
import { log } from '../log.js';
import { ContentStore } from './content.js';
import { gzipIfPlain } from './decompress.js';
import { collectGarbage } from './gc.js';
import type { CommitOptions, ImageConfig, ImageRecord, ImageService, ListOptions, OnProgress, PullOptions, RegistryAuth, RemoveOptions, SearchResult } from './index.js';
import { applyChanges } from '../build/config-instructions.js';
import { distributionInspect, type DistributionInspect } from './distribution.js';
import { pruneImages, removeImage } from './remove.js';
import { searchImages } from './search.js';
import { loadImages, pushImage, saveImages } from './transfer.js';
import { LayerStore, topChainId, type LayerDirs } from './layers.js';
import { sha256 } from './digest.js';
import { Leases, type Lease } from './leases.js';
import { hostPlatform, parsePlatform, type Platform } from './platform.js';
import { pullFromRegistry } from './pull.js';
import { CredentialStore, registryHostOf } from './registry/auth.js';
import { RegistryClient } from './registry/client.js';
import { findImageId, parseRef } from './resolve.js';
import { ImageMetaStore, type ImageMeta } from './store.js';
import { filterImages } from './filters.js';
import { now, traceRecord, tracing } from '../trace.js';

export interface ImportOptions {
  repo?: string;
  tag?: string;
  message?: string;
  platform?: string;
  /** Dockerfile-like instructions (CMD, ENV, …) applied to the config. */
  changes?: string[];
}

export class LocalImageService implements ImageService {
  readonly content: ContentStore;
  readonly layers: LayerStore;
  readonly meta: ImageMetaStore;
  readonly registry: RegistryClient;
  readonly credentials = new CredentialStore();
  readonly leases = new Leases();
  /** Set by the daemon once the containers service exists. */
  usedBy: (imageId: string) => string | undefined = () => undefined;

  constructor(readonly config: DaemonConfig, readonly events: EventBus) {
    this.content = new ContentStore(join(config.dataRoot, 'content'));
    this.layers = new LayerStore(join(config.dataRoot, 'layers'));
    this.meta = new ImageMetaStore(join(config.dataRoot, 'images'));
    this.registry = new RegistryClient({ insecure: config.insecureRegistries, mirrors: config.registryMirrors });
  }

  get layerDirs(): LayerDirs {
    return this.layers;
  }

  async init(): Promise<void> {
    // Archives being loaded when a previous run stopped.
    await rm(join(this.config.dataRoot, 'tmp'), { recursive: true, force: true });
    await this.content.init();
    await this.layers.init();
    await this.meta.init();
    await this.dropRecordsWithoutConfig();
    // Whatever a crash left unreferenced (a pull cut short) goes now.
    await collectGarbage(this.content, this.layers, this.meta, this.leases);
  }

  /** An image whose config blob is gone can be neither listed nor run; one such record must not fail every listing. */
  private async dropRecordsWithoutConfig(): Promise<void> {
    for (const m of this.meta.all()) {
      if (await this.content.info(m.id)) continue;
      log.warn(`image ${m.id}: its config blob is missing; the image record and its tags are dropped`);
      await this.meta.delete(m.id);
    }
  }

  async record(id: string): Promise<ImageRecord> {
    const m = this.meta.get(id);
    if (!m) throw new NotFoundError(`No such image: ${id}`);
    const config = JSON.parse((await this.content.read(id)).toString('utf8')) as ImageConfig;
    const refs = this.meta.refsOf(id).map((r) => parseReference(r));
    return {
      id,
      repoTags: refs.filter((r) => r.tag).map(familiarString),
      repoDigests: refs.filter((r) => r.digest).map(familiarString),
      config,
      chainId: m.chainId,
      size: m.size,
      parent: m.parent,
      created: m.created,
      lastTagTime: m.lastTagTime,
    };
  }

  async resolve(nameOrId: string): Promise<ImageRecord> {
    return this.record(findImageId(this.meta, nameOrId));
  }

  async layerSizes(image: ImageRecord): Promise<number[]> {
    const sizes: number[] = [];
    for (let cur = image.chainId; cur; ) {
      const info = await this.layers.info(cur);
      sizes.unshift(info.size);
      cur = info.parent;
    }
    return sizes;
  }

  async count(): Promise<number> {
    return this.meta.all().length;
  }

  async list(opts: ListOptions = {}): Promise<ImageRecord[]> {
    const all = await Promise.all(this.meta.all().map((m) => this.record(m.id)));
    return filterImages(all, opts, (s) => this.resolve(s));
  }

  authFor(domain: string, explicit?: RegistryAuth): RegistryAuth | undefined {
    return this.credentials.forHost(domain, explicit);
  }

  async login(auth: RegistryAuth): Promise<{ Status: string; IdentityToken: string }> {
    const domain = registryHostOf(auth.serveraddress);
    await this.registry.login(domain, auth);
    this.credentials.remember(auth);
    return { Status: 'Login Succeeded', IdentityToken: '' };
  }

  async pull(refStr: string, opts: PullOptions = {}, onProgress: OnProgress = () => undefined): Promise<ImageRecord> {
    const ref = withDefaultTag(parseRef(refStr));
    const platform = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
    const repo = this.registry.repo(ref.domain, ref.path, this.authFor(ref.domain, opts.auth), 'pull');
    const lease = this.leases.open();
    try {
      const result = await pullFromRegistry({ content: this.content, layers: this.layers }, repo, ref, platform, onProgress, lease, opts.signal);
      const recording = now();
      const before = ref.tag ? this.meta.byRef(fullString(ref)) : undefined;
      const existing = this.meta.get(result.id);
      const manifests = [...new Set([...(existing?.manifests ?? []), ...result.manifests])];
      await this.meta.put({
        id: result.id,
        chainId: result.chainId,
        size: result.size,
        parent: existing?.parent ?? '',
        created: result.config.created ?? new Date(0).toISOString(),
        lastTagTime: existing?.lastTagTime,
        manifests,
      });
      const entries: Array<[string, string]> = [[fullString({ ...ref, tag: undefined, digest: result.resolvedDigest }), result.id]];
      if (ref.tag) entries.push([fullString(ref), result.id]);
      await this.meta.setRefs(entries);
      if (tracing) traceRecord('pull: image record', result.id, recording);
      onProgress({ status: `Digest: ${result.resolvedDigest}` });
      const shown = familiarString(ref);
      onProgress({ status: before === result.id ? `Status: Image is up to date for ${shown}` : `Status: Downloaded newer image for ${shown}` });
      this.events.emit({ Type: 'image', Action: 'pull', Actor: { ID: shown, Attributes: { name: shown } } });
      return this.record(result.id);
    } catch (err) {
      lease.close();
      // Verified blobs of a failed pull are no use on their own: leave nothing behind.
      await this.gc().catch((e) => log.warn(`gc after failed pull: ${(e as Error).message}`));
      throw err;
    } finally {
      lease.close();
    }
  }

  async gc(): Promise<{ layers: string[]; blobs: string[]; reclaimed: number }> {
    return collectGarbage(this.content, this.layers, this.meta, this.leases);
  }

  /** Registers a new image from a config and layer chain. */
  async register(config: ImageConfig, chainId: string | undefined, parent: string, repoTag: Reference | undefined, manifests: string[] = []): Promise<string> {
    const bytes = Buffer.from(JSON.stringify(config));
    // A GC running meanwhile (an rmi) must not take the config blob or the chain before
    // the image record that refers to them is written.
    const lease = this.leases.open();
    lease.add(sha256(bytes));
    if (chainId) lease.add(chainId);
    try {
      return await this.registerLeased(bytes, config, chainId, parent, repoTag, manifests);
    } finally {
      lease.close();
    }
  }

  private async registerLeased(bytes: Buffer, config: ImageConfig, chainId: string | undefined, parent: string, repoTag: Reference | undefined, manifests: string[]): Promise<string> {
    const { digest: id } = await this.content.put(bytes);
    const existing = this.meta.get(id);
    await this.meta.put({
      id,
      chainId,
      size: await this.layers.chainSize(chainId),
      parent: existing?.parent || parent,
      created: config.created ?? new Date().toISOString(),
      lastTagTime: repoTag ? new Date().toISOString() : existing?.lastTagTime,
      manifests: [...new Set([...(existing?.manifests ?? []), ...manifests])],
    });
    if (repoTag) await this.meta.setRefs([[fullString(repoTag), id]]);
    return id;
  }

  /** Adds one layer tar (any compression) on top of `parentChain`; keeps the exact bytes as a blob. */
  async addLayer(tar: Readable, parentChain: string | undefined, what: string, expectedDigest?: string, keep?: Lease): Promise<{ chainId: string; diffId: string }> {
    const lease = this.leases.open();
    try {
      // An archive's blob is kept byte for byte (its digest is checked); commits and imports are stored gzipped.
      const source = expectedDigest ? tar : tar.pipe(gzipIfPlain());
      if (!expectedDigest) tar.on('error', (err) => source.destroy(err));
      const blob = await this.content.ingest(source, expectedDigest ? { digest: expectedDigest } : {}, what);
      lease.add(blob.digest);
      const info = await this.layers.apply(() => this.content.reader(blob.digest), parentChain, undefined, what, {
        digest: blob.digest,
        size: blob.size,
        mediaType: await sniffLayerType(this.content, blob.digest),
      });
      // The caller's lease keeps the new layer until its image record exists.
      keep?.add(blob.digest);
      keep?.add(info.chainId);
      return { chainId: info.chainId, diffId: info.diffId };
    } catch (err) {
      // Out of space, a bad tar: the input is dropped (an open file would hold its space
      // after the caller removes it), and the blob stored so far belongs to nothing now.
      tar.destroy();
      lease.close();
      await this.gc().catch((e) => log.warn(`gc after a failed ${what}: ${(e as Error).message}`));
      throw err;
    } finally {
      lease.close();
    }
  }

  async commit(opts: CommitOptions): Promise<string> {
    const parent = opts.parentImageId ? await this.resolve(opts.parentImageId) : undefined;
    const repoTag = opts.repo ? repoTagRef(opts.repo, opts.tag) : undefined;
    const keep = this.leases.open();
    try {
      return await this.commitLeased(opts, parent, repoTag, keep);
    } finally {
      keep.close();
    }
  }

  private async commitLeased(opts: CommitOptions, parent: ImageRecord | undefined, repoTag: Reference | undefined, keep: Lease): Promise<string> {
    const layer = opts.layerTar ? await this.addLayer(opts.layerTar, parent?.chainId, 'committed layer', undefined, keep) : undefined;
    const now = new Date().toISOString();
    const base = parent?.config;
    const platform = opts.platform ?? hostPlatform();
    const createdBy = opts.createdBy ?? (opts.config?.Cmd ?? []).join(' ');
    const config: ImageConfig = {
      ...(base ?? {}),
      architecture: base?.architecture ?? platform.architecture,
      os: base?.os ?? platform.os,
      ...(!base && platform.variant ? { variant: platform.variant } : {}),
      created: now,
      ...(opts.author ? { author: opts.author } : {}),
      ...(opts.comment ? { comment: opts.comment } : {}),
      ...(opts.container ? { container: opts.container } : {}),
      config: opts.config ?? base?.config ?? {},
      rootfs: { type: 'layers', diff_ids: [...(base?.rootfs.diff_ids ?? []), ...(layer ? [layer.diffId] : [])] },
      history: [...(base?.history ?? []), { created: now, created_by: createdBy, ...(opts.author ? { author: opts.author } : {}), ...(opts.comment ? { comment: opts.comment } : {}), ...(layer ? {} : { empty_layer: true }) }],
    };
    try {
      return await this.register(config, layer?.chainId ?? parent?.chainId, parent?.id ?? '', repoTag);
    } catch (err) {
      // The layer (and a config blob) without their image record: collected.
      keep.close();
      await this.gc().catch((e) => log.warn(`gc after a failed commit: ${(e as Error).message}`));
      throw err;
    }
  }

  async createFromConfig(config: ImageConfig, parentImageId: string): Promise<string> {
    const chainId = topChainId(config.rootfs.diff_ids);
    if (chainId && !this.layers.has(chainId)) throw new NotFoundError(`layer ${chainId} of the image to restore is not in the layer store`);
    return this.register(config, chainId, parentImageId, undefined);
  }

  /** POST /images/create?fromSrc: a root filesystem tar becomes a one-layer image. */
  async importTar(tar: Readable, opts: ImportOptions): Promise<string> {
    const repoTag = opts.repo ? repoTagRef(opts.repo, opts.tag) : undefined;
    const platform = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
    const keep = this.leases.open();
    try {
      return await this.importLeased(tar, opts, repoTag, platform, keep);
    } finally {
      keep.close();
    }
  }

  private async importLeased(tar: Readable, opts: ImportOptions, repoTag: Reference | undefined, platform: Platform, keep: Lease): Promise<string> {
    const layer = await this.addLayer(tar, undefined, 'imported filesystem', undefined, keep);
    const now = new Date().toISOString();
    const config: ImageConfig = {
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      created: now,
      config: applyChanges({}, opts.changes ?? []),
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created: now, created_by: '', comment: opts.message ?? 'Imported from -' }],
      ...(opts.message ? { comment: opts.message } : {}),
    };
    const id = await this.register(config, layer.chainId, '', repoTag);
    this.events.emit({ Type: 'image', Action: 'import', Actor: { ID: id, Attributes: { name: repoTag ? familiarString(repoTag) : id } } });
    return id;
  }

  async tag(nameOrId: string, repo: string, tag?: string): Promise<void> {
    const id = findImageId(this.meta, nameOrId);
    const ref = repoTagRef(repo, tag);
    await this.meta.setRefs([[fullString(ref), id]]);
    await this.meta.update(id, (m) => {
      m.lastTagTime = new Date().toISOString();
    });
    this.events.emit({ Type: 'image', Action: 'tag', Actor: { ID: id, Attributes: { name: familiarString(ref) } } });
  }

  remove(nameOrId: string, opts: RemoveOptions = {}, usedBy?: (id: string) => string | undefined): Promise<Array<{ Untagged?: string; Deleted?: string }>> {
    return removeImage(this, nameOrId, opts, usedBy);
  }

  prune(filters: Record<string, string[]>): Promise<{ ImagesDeleted: Array<{ Untagged?: string; Deleted?: string }>; SpaceReclaimed: number }> {
    return pruneImages(this, filters);
  }

  push(name: string, tag: string | undefined, auth: RegistryAuth | undefined, onProgress: OnProgress): Promise<void> {
    return pushImage(this, name, tag, auth, onProgress);
  }

  save(names: string[]): Promise<Readable> {
    return saveImages(this, names);
  }

  load(input: Readable, onProgress: OnProgress): Promise<void> {
    return loadImages(this, input, onProgress);
  }

  distribution(name: string, auth: RegistryAuth | undefined): Promise<DistributionInspect> {
    return distributionInspect(this, name, auth);
  }

  search(term: string, limit: number, auth: RegistryAuth | undefined): Promise<SearchResult[]> {
    return searchImages(this, term, limit, auth);
  }

  async shutdown(): Promise<void> {
    // Nothing held open: metadata writes are atomic and awaited.
  }
}

export function repoTagRef(repo: string, tag?: string): Reference {
  if (tag && !isTag(tag)) throw new InvalidArgumentError(`invalid tag format: ${tag}`);
  const ref = parseRef(tag ? `${repo}:${tag}` : repo);
  if (ref.digest) throw new InvalidArgumentError(`refusing to create a tag with a digest reference: ${repo}`);
  return withDefaultTag(ref);
}

async function sniffLayerType(content: ContentStore, digest: string): Promise<string> {
  const s = content.reader(digest);
  const head: Buffer = await new Promise((resolve, reject) => {
    s.once('data', (c) => {
      s.destroy();
      resolve(c as Buffer);
    });
    s.once('error', reject);
    s.once('end', () => resolve(Buffer.alloc(0)));
  });
  if (head[0] === 0x1f && head[1] === 0x8b) return 'application/vnd.docker.image.rootfs.diff.tar.gzip';
  if (head[0] === 0x28 && head[1] === 0xb5) return 'application/vnd.oci.image.layer.v1.tar+zstd';
  return 'application/vnd.oci.image.layer.v1.tar';
}

export async function createImageService(config: DaemonConfig, events: EventBus): Promise<LocalImageService> {
  const svc = new LocalImageService(config, events);
  await svc.init();
  return svc;
}

