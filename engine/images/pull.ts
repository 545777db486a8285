/**
 * Pull: resolve the reference to a manifest (selecting a platform from an
 * index), fetch config and layers (3 at a time) into the content store with
 * digest and size checks, unpack each layer once, and report docker's progress.
 * Every blob a pull touches is leased, so GC never takes it mid-pull.
 */
import { Transform } from 'node:stream';
import { familiarString, type Reference } from '../../src/common/reference.js';
import { InvalidArgumentError } from '../errors.js';
import type { ContentStore } from './content.js';
import { chainIds, shortId, isDigest } from './digest.js';
import type { ImageConfig, OnProgress } from './index.js';
import type { LayerStore } from './layers.js';
import type { Lease } from './leases.js';
import { selectManifest, type Platform } from './platform.js';
import { byteProgress } from './progress.js';
import { tee } from './tee.js';
import type { RepoClient } from './registry/client.js';
import { now, traceRecord, traced, tracing } from '../trace.js';
import { isIndexType, isManifestType, parseIndex, parseManifest } from './registry/media.js';

export interface PullResult {
  id: string;
  config: ImageConfig;
  chainId: string | undefined;
  size: number;
  /** What the reference resolved to (index or manifest): the repo digest. */
  resolvedDigest: string;
  /** Manifest and index digests to keep referenced. */
  manifests: string[];
}

export interface PullDeps {
  content: ContentStore;
  layers: LayerStore;
}

const CONCURRENT_DOWNLOADS = 3;

export async function pullFromRegistry(deps: PullDeps, repo: RepoClient, ref: Reference, platform: Platform, onProgress: OnProgress, lease: Lease, signal?: AbortSignal): Promise<PullResult> {
  const { content, layers } = deps;
  const name = familiarString(ref);
  const reference = ref.digest ?? ref.tag ?? 'latest';
  {
    onProgress({ status: `Pulling from ${familiarString({ ...ref, tag: undefined, digest: undefined })}`, id: ref.digest ? ref.digest : (ref.tag ?? 'latest') });
    // The resolved document (by tag or by digest).
    const top = await traced('pull: manifest', name, () => repo.getManifest(reference, signal));
    const topInfo = await content.put(top.bytes, ref.digest ? { digest: ref.digest } : top.digest && isDigest(top.digest) ? { digest: top.digest } : {}, `manifest of ${name}`);
    lease.add(topInfo.digest);
    const manifests = [topInfo.digest];
    let manifestBytes = top.bytes;
    let mediaType = top.mediaType;
    if (isIndexType(mediaType)) {
      const index = parseIndex(top.bytes, `manifest list of ${name}`);
      const pick = selectManifest(index.manifests, platform, name);
      const m = await repo.getManifest(pick.digest, signal);
      const info = await content.put(m.bytes, { digest: pick.digest, size: pick.size }, `manifest ${pick.digest} of ${name}`);
      lease.add(info.digest);
      manifests.push(info.digest);
      manifestBytes = m.bytes;
      mediaType = m.mediaType;
    }
    if (!isManifestType(mediaType)) throw new InvalidArgumentError(`${name}: unsupported manifest media type ${JSON.stringify(mediaType)}`);
    const manifest = parseManifest(manifestBytes, `manifest of ${name}`);

    // Config.
    const configStart = now();
    let configInfo = await content.info(manifest.config.digest);
    if (!configInfo) {
      const { stream } = await repo.getBlob(manifest.config.digest, signal);
      configInfo = await content.ingest(stream, { digest: manifest.config.digest, size: manifest.config.size }, `config ${manifest.config.digest} of ${name}`);
    } else if (configInfo.size !== manifest.config.size) {
      throw new InvalidArgumentError(`config ${manifest.config.digest} of ${name}: the manifest says ${manifest.config.size} bytes, the blob has ${configInfo.size}`);
    }
    lease.add(configInfo.digest);
    if (tracing) traceRecord('pull: config', name, configStart);
    const config = parseJson<ImageConfig>(await content.read(configInfo.digest), `config of ${name}`);
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== manifest.layers.length) {
      throw new InvalidArgumentError(`${name}: the manifest has ${manifest.layers.length} layers but the config lists ${diffIds.length} diff ids`);
    }
    for (const d of diffIds) if (!isDigest(d)) throw new InvalidArgumentError(`config of ${name}: invalid diff id ${JSON.stringify(d)}`);
    const chains = chainIds(diffIds);
    for (const c of chains) lease.add(c);

    // Layers: up to 3 at once, each unpacked while it downloads.
    const ids = manifest.layers.map((l) => shortId(l.digest));
    const present = chains.map((c) => layers.has(c));
    manifest.layers.forEach((_, i) => onProgress(present[i] ? { status: 'Already exists', id: ids[i] } : { status: 'Pulling fs layer', id: ids[i] }));
    let next = 0;
    const failures: unknown[] = [];
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    signal?.addEventListener('abort', onAbort);
    const worker = async () => {
      while (next < manifest.layers.length && failures.length === 0) {
        const i = next++;
        if (present[i]) continue;
        const desc = manifest.layers[i];
        if (!isDigest(desc.digest)) throw new InvalidArgumentError(`manifest of ${name}: invalid layer digest ${JSON.stringify(desc.digest)}`);
        const what = `layer ${desc.digest} of ${name}`;
        lease.add(desc.digest);
        const blobRecord = { digest: desc.digest, size: desc.size, mediaType: desc.mediaType };
        const parent = i > 0 ? chains[i - 1] : undefined;
        const blob = await content.info(desc.digest);
        if (blob && blob.size !== desc.size) throw new InvalidArgumentError(`${what}: the manifest says ${desc.size} bytes, the blob has ${blob.size}`);
        if (blob || layers.busyOrPresent(parent, diffIds[i])) {
          onProgress({ status: 'Extracting', id: ids[i], progressDetail: { current: desc.size, total: desc.size } });
          await layers.apply(() => content.reader(desc.digest), parent, diffIds[i], what, blobRecord);
        } else {
          // Download and unpack at once; the layer is committed only if the blob's digest checks out too.
          const requested = now();
          const { stream } = await repo.getBlob(desc.digest, controller.signal);
          if (tracing) {
            traceRecord('pull: layer response', desc.digest, requested);
            stream.once('data', () => traceRecord('pull: first byte', desc.digest, requested));
            stream.once('end', () => traceRecord('pull: download', desc.digest, requested));
          }
          const report = byteProgress(onProgress, ids[i], 'Downloading', desc.size);
          let got = 0;
          const counter = new Transform({
            transform(chunk: Buffer, _e, cb) {
              got += chunk.length;
              report(got);
              cb(null, chunk);
            },
          });
          stream.on('error', (err) => counter.destroy(err));
          const [toStore, toUnpack] = tee(stream.pipe(counter));
          const stored = traced('pull: blob stored', desc.digest, () => content.ingest(toStore, { digest: desc.digest, size: desc.size }, what)).then((b) => {
            onProgress({ status: 'Verifying Checksum', id: ids[i] });
            onProgress({ status: 'Download complete', id: ids[i] });
            return b;
          });
          // The unpack side reports the blob error when the store side fails first.
          stored.catch(() => undefined);
          // Another pull may be unpacking the same layer already: then this copy is only stored.
          let unpacking = false;
          const applied = traced('pull: layer applied', desc.digest, () => layers.apply(() => ((unpacking = true), toUnpack), parent, diffIds[i], what, blobRecord, stored));
          if (!unpacking) toUnpack.resume();
          await applied;
          await stored;
        }
        onProgress({ status: 'Pull complete', id: ids[i] });
      }
    };
    const workers = Array.from({ length: Math.min(CONCURRENT_DOWNLOADS, manifest.layers.length) }, () =>
      worker().catch((err) => {
        failures.push(err);
        controller.abort();
      }),
    );
    await Promise.all(workers);
    signal?.removeEventListener('abort', onAbort);
    if (failures.length) throw failures[0];
    // Layers that existed may lack the blob record (loaded or committed elsewhere): add it.
    for (let i = 0; i < chains.length; i++) {
      const info = await layers.info(chains[i]);
      if (!info.blob && (await content.info(manifest.layers[i].digest))) {
        await layers.setBlob(chains[i], { digest: manifest.layers[i].digest, size: manifest.layers[i].size, mediaType: manifest.layers[i].mediaType });
      }
    }
    const top_ = chains[chains.length - 1];
    return {
      id: configInfo.digest,
      config,
      chainId: top_,
      size: await layers.chainSize(top_),
      resolvedDigest: topInfo.digest,
      manifests,
    };
  }
}

function parseJson<T>(bytes: Buffer, what: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (err) {
    throw new InvalidArgumentError(`${what}: invalid JSON (${(err as Error).message})`);
  }
}
