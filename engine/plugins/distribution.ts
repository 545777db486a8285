/**
 * Plugins in registries, through the images service's registry client (auth,
 * mirrors, insecure registries): a plugin is a schema 2 manifest whose config has
 * the media type application/vnd.docker.plugin.v1+json and whose one layer is the
 * rootfs (what `docker plugin push` uploads). Blobs are checked against their digest.
 * Push makes that layer from the rootfs directory (GNU tar, gzip) in a temp file.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { familiarString, fullString, parseReference, withDefaultTag, InvalidReferenceError, type Reference } from '../../src/common/reference.js';
import { EngineError, InvalidArgumentError } from '../errors.js';
import type { RegistryAuth } from '../images/index.js';
import type { RepoClient } from '../images/registry/client.js';
import { isIndexType, parseManifest, type Manifest } from '../images/registry/media.js';
import { unpackLayerNative } from '../images/unpack-native.js';
import { parseConfig } from './config.js';
import type { PluginConfig, PluginObject } from './index.js';

export const PLUGIN_CONFIG_MEDIA_TYPE = 'application/vnd.docker.plugin.v1+json';

export type OpenRepo = (ref: Reference, auth: RegistryAuth | undefined) => RepoClient;

export interface RemotePlugin {
  ref: Reference;
  repo: RepoClient;
  manifest: Manifest;
  manifestDigest: string;
  config: PluginConfig;
}

export function parseRemote(remote: string): Reference {
  try {
    const ref = parseReference(remote);
    return ref.digest ? ref : withDefaultTag(ref);
  } catch (err) {
    if (err instanceof InvalidReferenceError) throw new InvalidArgumentError(`invalid plugin reference "${remote}": ${err.message}`);
    throw err;
  }
}

export const remoteName = (ref: Reference): string => familiarString(ref);
export const remoteString = (ref: Reference): string => fullString(ref);

/** Checks a blob's digest as it streams. */
function verified(stream: Readable, digest: string, what: string): Readable {
  const hash = createHash('sha256');
  const check = new Transform({
    transform(chunk: Buffer, _e, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      const got = `sha256:${hash.digest('hex')}`;
      cb(got === digest ? null : new InvalidArgumentError(`${what}: digest mismatch (registry sent ${got}, manifest says ${digest})`));
    },
  });
  stream.on('error', (err) => check.destroy(err));
  return stream.pipe(check);
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The manifest and config of a plugin in a registry; an image there is refused by name. */
export async function fetchRemote(open: OpenRepo, remote: string, auth: RegistryAuth | undefined): Promise<RemotePlugin> {
  const ref = parseRemote(remote);
  const repo = open(ref, auth);
  const top = await repo.getManifest(ref.digest ?? ref.tag ?? 'latest');
  const name = remoteName(ref);
  if (isIndexType(top.mediaType)) throw new InvalidArgumentError(`${name} is a manifest list, not a plugin: plugins are pushed as one manifest (docker plugin push)`);
  const manifest = parseManifest(top.bytes, `manifest of ${name}`);
  if (manifest.config.mediaType !== PLUGIN_CONFIG_MEDIA_TYPE) {
    throw new InvalidArgumentError(`${name} is not a plugin: its config is ${manifest.config.mediaType}, not ${PLUGIN_CONFIG_MEDIA_TYPE} (an image? use docker pull)`);
  }
  const blob = await repo.getBlob(manifest.config.digest);
  const config = parseConfig(await readAll(verified(blob.stream, manifest.config.digest, `config of ${name}`)));
  const manifestDigest = ref.digest ?? top.digest ?? `sha256:${createHash('sha256').update(top.bytes).digest('hex')}`;
  return { ref, repo, manifest, manifestDigest, config };
}

/** Downloads the rootfs layer into `rootfsDir`; returns its diff id. */
export async function fetchRootfs(p: RemotePlugin, rootfsDir: string, onProgress: (status: string) => void): Promise<string> {
  const name = remoteName(p.ref);
  if (p.manifest.layers.length !== 1) {
    throw new InvalidArgumentError(`${name} has ${p.manifest.layers.length} layers: berthd installs plugins whose rootfs is one layer (as docker plugin create and push make them)`);
  }
  const layer = p.manifest.layers[0];
  const id = layer.digest.slice(7, 19);
  onProgress(`${id}: Downloading`);
  const blob = await p.repo.getBlob(layer.digest);
  const { diffId } = await unpackLayerNative(verified(blob.stream, layer.digest, `rootfs of ${name}`), rootfsDir, `rootfs of ${name}`);
  onProgress(`${id}: Download complete`);
  return diffId;
}

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

/** The rootfs as a gzip layer in `tmpFile`: its digest, size and diff id. */
async function rootfsLayer(rootfs: string, tmpFile: string): Promise<{ digest: string; size: number; diffId: string }> {
  const tar = spawn('tar', ['-C', rootfs, '--numeric-owner', '--xattrs', '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  tar.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number>((resolve) => tar.on('close', (code) => resolve(code ?? 1)));
  const diff = createHash('sha256');
  const blob = createHash('sha256');
  let size = 0;
  const tap = (h: ReturnType<typeof createHash>, count = false) => new Transform({
    transform(chunk: Buffer, _e, cb) {
      h.update(chunk);
      if (count) size += chunk.length;
      cb(null, chunk);
    },
  });
  await pipeline(tar.stdout, tap(diff), createGzip(), tap(blob, true), createWriteStream(tmpFile));
  if ((await exited) !== 0) throw new EngineError(`packing the plugin rootfs: tar: ${stderr.trim()}`);
  return { digest: `sha256:${blob.digest('hex')}`, size, diffId: `sha256:${diff.digest('hex')}` };
}

/** POST /plugins/{name}/push: to the registry and repository its name says. */
export async function pushPlugin(open: (ref: Reference) => RepoClient, p: PluginObject, rootfs: string, tmpDir: string, onProgress: (m: Record<string, unknown>) => void): Promise<void> {
  const ref = parseRemote(p.Name);
  const repo = open(ref);
  onProgress({ status: `The push refers to repository [${remoteName({ ...ref, tag: undefined })}]` });
  await fs.mkdir(tmpDir, { recursive: true });
  const tmpFile = join(tmpDir, `push-${p.Id}-${process.pid}-${Date.now()}.tar.gz`);
  try {
    const layer = await rootfsLayer(rootfs, tmpFile);
    const id = layer.digest.slice(7, 19);
    if (await repo.blobExists(layer.digest)) {
      onProgress({ status: 'Layer already exists', id });
    } else {
      onProgress({ status: 'Pushing', id });
      await repo.uploadBlob(createReadStream(tmpFile, { highWaterMark: 8 << 20 }) as AsyncIterable<Buffer>, layer.digest);
      onProgress({ status: 'Pushed', id });
    }
    const config = Buffer.from(JSON.stringify({ ...p.Config, rootfs: { type: 'layers', diff_ids: [layer.diffId] } }));
    const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
    if (!(await repo.blobExists(configDigest))) await repo.uploadBlob((async function* () { yield config; })(), configDigest);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: { mediaType: PLUGIN_CONFIG_MEDIA_TYPE, digest: configDigest, size: config.length },
      layers: [{ mediaType: DOCKER_LAYER, digest: layer.digest, size: layer.size }],
    }));
    const tag = ref.tag ?? 'latest';
    await repo.putManifest(tag, DOCKER_MANIFEST, manifest);
    const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
    onProgress({ status: `${tag}: digest: ${digest} size: ${manifest.length}` });
    onProgress({ progressDetail: {}, aux: { Tag: tag, Digest: digest, Size: manifest.length } });
  } finally {
    await fs.rm(tmpFile, { force: true });
  }
}
