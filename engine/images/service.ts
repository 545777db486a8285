/**
 * The image service: ties content store, layer store, metadata, registry
 * client and GC together behind ImageService.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { familiarString, fullString, parseReference, withDefaultTag, isTag, type Reference } from '../../src/common/reference.js';
import type { DaemonConfig } from '../config.js';
import { ConflictError, InvalidArgumentError, NotFoundError, UnavailableError } from '../errors.js';
import type { EventBus } from '../events.js';
import { log } from '../log.js';
import { ContentStore } from './content.js';
import { chainIds, shortId } from './digest.js';
import { pushToRegistry } from './push.js';
import { saveArchive, type SaveItem } from './save.js';
import { fileStream, readArchive } from './load.js';
import { collectGarbage } from './gc.js';
import type { CommitOptions, ImageConfig, ImageRecord, ImageService, ListOptions, OnProgress, PullOptions, RegistryAuth, RemoveOptions } from './index.js';
import { LayerStore, type LayerDirs } from './layers.js';
import { Leases } from './leases.js';
import { hostPlatform, parsePlatform } from './platform.js';
import { pullFromRegistry } from './pull.js';
import { CredentialStore, registryHostOf } from './registry/auth.js';
import { RegistryClient } from './registry/client.js';
import { findImageId, parseRef } from './resolve.js';
import { ImageMetaStore, type ImageMeta } from './store.js';
import { filterImages } from './filters.js';

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

  constructor(readonly config: DaemonConfig, private readonly events: EventBus) {
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
    // Whatever a crash left unreferenced (a pull cut short) goes now.
    await collectGarbage(this.content, this.layers, this.meta, this.leases);
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
  async addLayer(tar: Readable, parentChain: string | undefined, what: string, expectedDigest?: string): Promise<{ chainId: string; diffId: string }> {
    const lease = this.leases.open();
    try {
      const blob = await this.content.ingest(tar, expectedDigest ? { digest: expectedDigest } : {}, what);
      lease.add(blob.digest);
      const info = await this.layers.apply(() => this.content.reader(blob.digest), parentChain, undefined, what, {
        digest: blob.digest,
        size: blob.size,
        mediaType: await sniffLayerType(this.content, blob.digest),
      });
      return { chainId: info.chainId, diffId: info.diffId };
    } finally {
      lease.close();
    }
  }

  async commit(opts: CommitOptions): Promise<string> {
    const parent = opts.parentImageId ? await this.resolve(opts.parentImageId) : undefined;
    const repoTag = opts.repo ? repoTagRef(opts.repo, opts.tag) : undefined;
    const layer = await this.addLayer(opts.layerTar, parent?.chainId, 'committed layer');
    const now = new Date().toISOString();
    const base = parent?.config;
    const config: ImageConfig = {
      ...(base ?? {}),
      architecture: base?.architecture ?? hostPlatform().architecture,
      os: base?.os ?? 'linux',
      created: now,
      ...(opts.author ? { author: opts.author } : {}),
      ...(opts.comment ? { comment: opts.comment } : {}),
      ...(opts.container ? { container: opts.container } : {}),
      config: opts.config ?? base?.config ?? {},
      rootfs: { type: 'layers', diff_ids: [...(base?.rootfs.diff_ids ?? []), layer.diffId] },
      history: [...(base?.history ?? []), { created: now, created_by: (opts.config?.Cmd ?? []).join(' '), ...(opts.author ? { author: opts.author } : {}), ...(opts.comment ? { comment: opts.comment } : {}) }],
    };
    const id = await this.register(config, layer.chainId, parent?.id ?? '', repoTag);
    return id;
  }

  /** POST /images/create?fromSrc: a root filesystem tar becomes a one-layer image. */
  async importTar(tar: Readable, opts: ImportOptions): Promise<string> {
    const repoTag = opts.repo ? repoTagRef(opts.repo, opts.tag) : undefined;
    const platform = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
    const layer = await this.addLayer(tar, undefined, 'imported filesystem');
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

  async remove(nameOrId: string, opts: RemoveOptions = {}, usedBy?: (id: string) => string | undefined): Promise<Array<{ Untagged?: string; Deleted?: string }>> {
    const inUse = usedBy ?? this.usedBy;
    const id = findImageId(this.meta, nameOrId);
    const refs = this.meta.refsOf(id);
    const out: Array<{ Untagged?: string; Deleted?: string }> = [];
    const byRef = refs.find((r) => {
      try {
        return fullString(withDefaultTag(parseReference(nameOrId))) === r;
      } catch {
        return false;
      }
    });
    if (byRef) {
      const tagRefs = refs.filter((r) => !r.includes('@'));
      const others = tagRefs.filter((r) => r !== byRef && parseReference(r).tag);
      if (others.length > 0 || byRef.includes('@') && tagRefs.length > 0) {
        await this.meta.deleteRefs([byRef]);
        out.push({ Untagged: familiarString(parseReference(byRef)) });
        this.events.emit({ Type: 'image', Action: 'untag', Actor: { ID: id, Attributes: { name: familiarString(parseReference(byRef)) } } });
        return out;
      }
    } else if (refs.filter((r) => !r.includes('@')).length > 1 && !opts.force) {
      throw new ConflictError(`conflict: unable to delete ${shortId(id)} (must be forced) - image is referenced in multiple repositories`);
    }
    const user = inUse(id);
    if (user) {
      if (!opts.force) throw new ConflictError(`conflict: unable to delete ${byRef ? familiarString(parseReference(byRef)) : shortId(id)} (must be forced) - image is being used by container ${user.slice(0, 12)}`);
      // Forced while in use: untag only, the container keeps its image (docker does the same).
      await this.meta.deleteRefs(refs);
      for (const r of refs) out.push({ Untagged: familiarString(parseReference(r)) });
      return out;
    }
    const children = this.meta.all().filter((m) => m.parent === id);
    if (children.length > 0) {
      throw new ConflictError(`conflict: unable to delete ${shortId(id)} (cannot be forced) - image has dependent child images`);
    }
    for (const r of refs) {
      out.push({ Untagged: familiarString(parseReference(r)) });
      this.events.emit({ Type: 'image', Action: 'untag', Actor: { ID: id, Attributes: { name: familiarString(parseReference(r)) } } });
    }
    const parent = this.meta.get(id)?.parent;
    await this.meta.delete(id);
    out.push({ Deleted: id });
    this.events.emit({ Type: 'image', Action: 'delete', Actor: { ID: id, Attributes: { name: id } } });
    // Untagged parents with no other children go too, unless noprune.
    if (!opts.noprune && parent && this.meta.get(parent) && this.meta.refsOf(parent).length === 0 && !this.meta.all().some((m) => m.parent === parent) && !inUse(parent)) {
      out.push(...(await this.remove(parent, {}, inUse)));
    }
    const gc = await this.gc();
    for (const l of gc.layers) out.push({ Deleted: l });
    return out;
  }

  /** POST /images/prune: dangling images (or all unused with dangling=false). */
  async prune(filters: Record<string, string[]>): Promise<{ ImagesDeleted: Array<{ Untagged?: string; Deleted?: string }>; SpaceReclaimed: number }> {
    const danglingOnly = !(filters.dangling ?? ['true']).some((v) => v === 'false' || v === '0');
    const deleted: Array<{ Untagged?: string; Deleted?: string }> = [];
    let reclaimed = 0;
    const candidates = await this.list({ all: true, filters: { ...filters, dangling: danglingOnly ? ['true'] : [] } });
    for (const img of candidates) {
      if (!this.meta.get(img.id) || this.usedBy(img.id)) continue;
      if (this.meta.all().some((m) => m.parent === img.id)) continue;
      reclaimed += img.size;
      try {
        deleted.push(...(await this.remove(img.id, { force: true })));
      } catch (err) {
        log.warn(`prune ${img.id}: ${(err as Error).message}`);
      }
    }
    return { ImagesDeleted: deleted, SpaceReclaimed: reclaimed };
  }

  async push(name: string, tag: string | undefined, auth: RegistryAuth | undefined, onProgress: OnProgress): Promise<void> {
    const base = parseRef(name);
    if (base.digest) throw new InvalidArgumentError(`cannot push a digest reference (${name}): push a tag`);
    const tags = tag || base.tag ? [tag || base.tag!] : this.tagsOfRepo(base);
    if (tags.length === 0) throw new NotFoundError(`An image does not exist locally with the tag: ${familiarString(base)}`);
    const repo = this.registry.repo(base.domain, base.path, this.authFor(base.domain, auth), 'pull,push');
    for (const t of tags) {
      const ref = { ...base, tag: t };
      let image: ImageRecord;
      try {
        image = await this.resolve(fullString(ref));
      } catch (err) {
        if (err instanceof NotFoundError) throw new NotFoundError(`An image does not exist locally with the tag: ${familiarString(ref)}`);
        throw err;
      }
      const meta = this.meta.get(image.id)!;
      const sources = [...new Set(Object.keys(this.meta.allRefs()).map((r) => parseReference(r)).filter((r) => r.domain === base.domain && r.path !== base.path).map((r) => r.path))];
      const lease = this.leases.open();
      try {
        const pushed = await pushToRegistry({ content: this.content, layers: this.layers }, repo, ref, image, meta.manifests, sources, onProgress);
        lease.add(pushed.digest);
        await this.meta.update(image.id, (m) => {
          if (!m.manifests.includes(pushed.digest)) m.manifests.push(pushed.digest);
        });
        await this.meta.setRefs([[fullString({ ...base, tag: undefined, digest: pushed.digest }), image.id]]);
      } finally {
        lease.close();
      }
      this.events.emit({ Type: 'image', Action: 'push', Actor: { ID: familiarString(ref), Attributes: { name: familiarString(ref) } } });
    }
  }

  private tagsOfRepo(base: Reference): string[] {
    return Object.keys(this.meta.allRefs())
      .map((r) => parseReference(r))
      .filter((r) => r.domain === base.domain && r.path === base.path && r.tag)
      .map((r) => r.tag!);
  }

  /** docker save of images by name or id. */
  async save(names: string[]): Promise<Readable> {
    const items: SaveItem[] = [];
    for (const n of names) {
      const image = await this.resolve(n);
      let refs: Reference[] = [];
      if (!/^(sha256:)?[a-f0-9]{6,64}$/.test(n)) {
        const r = withDefaultTag(parseRef(n));
        refs = r.tag ? [r] : [];
      }
      const existing = items.find((i) => i.image.id === image.id);
      if (existing) existing.refs.push(...refs);
      else items.push({ image, refs, manifests: this.meta.get(image.id)?.manifests ?? [] });
    }
    if (items.length === 0) throw new InvalidArgumentError('docker save needs at least one image');
    return saveArchive({ content: this.content, layers: this.layers }, items);
  }

  /** docker load: returns what was loaded, as docker's progress lines. */
  async load(input: Readable, onProgress: OnProgress): Promise<void> {
    await readArchive(input, join(this.config.dataRoot, 'tmp'), async (img) => {
      const lease = this.leases.open();
      try {
        const diffIds = img.config.rootfs?.diff_ids ?? [];
        if (!Array.isArray(diffIds) || diffIds.length !== img.layers.length) {
          throw new InvalidArgumentError(`load: the image config lists ${diffIds.length} layers, the archive ${img.layers.length}`);
        }
        const chains = chainIds(diffIds);
        for (let i = 0; i < img.layers.length; i++) {
          lease.add(chains[i]);
          if (this.layers.has(chains[i])) continue;
          const what = `layer ${i + 1} of the loaded image`;
          onProgress({ status: 'Loading layer', id: shortId(diffIds[i]) });
          const layer = await this.addLayer(fileStream(img.layers[i].path), i > 0 ? chains[i - 1] : undefined, what, img.layers[i].digest);
          if (layer.diffId !== diffIds[i]) {
            await this.layers.remove(layer.chainId);
            throw new InvalidArgumentError(`load: ${what} has content ${layer.diffId}, but the image config says ${diffIds[i]}`);
          }
        }
        const manifests: string[] = [];
        if (img.manifest) manifests.push((await this.content.put(img.manifest)).digest);
        const tags = img.tags.map((t) => repoTagRef(t));
        const id = await this.register(img.config, chains[chains.length - 1], '', tags[0], manifests);
        if (tags.length > 1) await this.meta.setRefs(tags.slice(1).map((t) => [fullString(t), id]));
        if (tags.length === 0) onProgress({ stream: `Loaded image ID: ${id}\n` });
        for (const t of tags) onProgress({ stream: `Loaded image: ${familiarString(t)}\n` });
        this.events.emit({ Type: 'image', Action: 'load', Actor: { ID: id, Attributes: { name: tags[0] ? familiarString(tags[0]) : id } } });
      } finally {
        lease.close();
      }
    });
  }

  /** Image search: a registry's v2 catalog when the term names a host, else Docker Hub's v1 search. */
  async search(term: string, limit: number, auth: RegistryAuth | undefined): Promise<Array<{ name: string; description: string; star_count: number; is_official: boolean; is_automated: boolean }>> {
    if (!term) throw new InvalidArgumentError('search needs a term');
    const slash = term.indexOf('/');
    const first = slash > 0 ? term.slice(0, slash) : '';
    const isHost = first.includes('.') || first.includes(':') || first === 'localhost';
    if (isHost) {
      const needle = term.slice(slash + 1);
      const repos = await this.registry.catalog(first, this.authFor(first, auth));
      return repos
        .filter((r) => r.includes(needle))
        .slice(0, limit)
        .map((r) => ({ name: `${first}/${r}`, description: '', star_count: 0, is_official: false, is_automated: false }));
    }
    const url = `https://index.docker.io/v1/search?q=${encodeURIComponent(term)}&n=${limit}`;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      throw new UnavailableError(`Docker Hub search is unreachable (${(err as Error).cause ? String(((err as Error).cause as Error).message ?? '') : (err as Error).message}): search a private registry with HOST/TERM`);
    }
    if (!res.ok) throw new UnavailableError(`Docker Hub search answered ${res.status}`);
    const body = (await res.json()) as { results?: Array<{ name: string; description?: string; star_count?: number; is_official?: boolean; is_automated?: boolean }> };
    return (body.results ?? []).slice(0, limit).map((r) => ({ name: r.name, description: r.description ?? '', star_count: r.star_count ?? 0, is_official: Boolean(r.is_official), is_automated: Boolean(r.is_automated) }));
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

/** The few Dockerfile instructions `docker import --change` accepts. */
export function applyChanges(config: NonNullable<ImageConfig['config']>, changes: string[]): NonNullable<ImageConfig['config']> {
  const out = { ...config };
  for (const line of changes) {
    const m = /^\s*(\w+)\s+(.*)$/s.exec(line);
    if (!m) throw new InvalidArgumentError(`--change ${JSON.stringify(line)}: expected INSTRUCTION ARGS`);
    const [, ins, arg] = m;
    const list = (): string[] => {
      const t = arg.trim();
      if (t.startsWith('[')) {
        try {
          return JSON.parse(t) as string[];
        } catch {
          throw new InvalidArgumentError(`--change ${ins}: invalid JSON array ${t}`);
        }
      }
      return ['/bin/sh', '-c', t];
    };
    switch (ins.toUpperCase()) {
      case 'CMD': out.Cmd = list(); break;
      case 'ENTRYPOINT': out.Entrypoint = list(); break;
      case 'ENV': {
        const kv = arg.includes('=') ? arg.trim() : arg.trim().replace(/\s+/, '=');
        out.Env = [...(out.Env ?? []).filter((e) => !e.startsWith(`${kv.split('=')[0]}=`)), kv];
        break;
      }
      case 'WORKDIR': out.WorkingDir = arg.trim(); break;
      case 'USER': out.User = arg.trim(); break;
      case 'EXPOSE': out.ExposedPorts = { ...(out.ExposedPorts ?? {}), ...Object.fromEntries(arg.trim().split(/\s+/).map((p) => [p.includes('/') ? p : `${p}/tcp`, {}])) }; break;
      case 'VOLUME': out.Volumes = { ...(out.Volumes ?? {}), ...Object.fromEntries((arg.trim().startsWith('[') ? (JSON.parse(arg) as string[]) : arg.trim().split(/\s+/)).map((v) => [v, {}])) }; break;
      case 'LABEL': {
        const labels = { ...(out.Labels ?? {}) };
        for (const kv of arg.match(/(?:[^\s"]+|"[^"]*")+/g) ?? []) {
          const i = kv.indexOf('=');
          if (i > 0) labels[kv.slice(0, i)] = kv.slice(i + 1).replace(/^"|"$/g, '');
        }
        out.Labels = labels;
        break;
      }
      case 'STOPSIGNAL': out.StopSignal = arg.trim(); break;
      default: throw new InvalidArgumentError(`--change ${ins}: only CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME and WORKDIR are supported`);
    }
  }
  return out;
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

