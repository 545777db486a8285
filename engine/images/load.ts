/**
 * docker load: a docker-archive (manifest.json) or an OCI image layout tar
 * (index.json), compressed or not. The tar is extracted to a private temp dir
 * (entries checked like layer entries), blobs are verified by their names'
 * digests, and each image's layers are applied and checked against its config.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { tarStream } from './tarlib.js';
import { InvalidArgumentError } from '../errors.js';
import { autoDecompress } from './decompress.js';
import { isDigest } from './digest.js';
import type { ImageConfig } from './index.js';
import { hostPlatform, selectManifest } from './platform.js';
import { isIndexType, parseIndex, parseManifest, type Descriptor, type Index, type Manifest } from './registry/media.js';
import { entryParts } from './unpack.js';

export interface LoadedImage {
  config: ImageConfig;
  configBytes: Buffer;
  /** Layer files (as in the archive) bottom first, with the blob digest when named by one. */
  layers: Array<{ path: string; digest?: string }>;
  /** Full references to tag ("docker.io/library/busybox:latest" or familiar). */
  tags: string[];
  /** The OCI manifest bytes, when loaded from a layout. */
  manifest?: Buffer;
}

/** Extracts the archive, then calls `each` per image; the temp dir is removed after. */
export async function readArchive(input: Readable, tmpRoot: string, each: (img: LoadedImage) => Promise<void>): Promise<void> {
  const dir = join(tmpRoot, `load-${randomBytes(8).toString('hex')}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    await extractTo(input, dir);
    if (existsSync(join(dir, 'manifest.json'))) {
      await readDockerArchive(dir, each);
    } else if (existsSync(join(dir, 'index.json'))) {
      await readOciLayout(dir, each);
    } else {
      throw new InvalidArgumentError('load: the tar has neither manifest.json (docker-archive) nor index.json (OCI layout)');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function extractTo(input: Readable, dir: string): Promise<void> {
  const tar = await tarStream();
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    stream.on('error', () => undefined);
    try {
      const parts = entryParts(header.name, 'load archive');
      if (header.type === 'directory' || parts.length === 0) {
        mkdirSync(join(dir, ...parts), { recursive: true });
        stream.resume();
        stream.on('end', next);
        return;
      }
      if (header.type !== 'file' && header.type !== 'contiguous-file') {
        // Symlinks in archives (docker's legacy layout) point at files we read by manifest path: skip.
        stream.resume();
        stream.on('end', next);
        return;
      }
      mkdirSync(join(dir, ...parts.slice(0, -1)), { recursive: true });
      pipeline(stream, createWriteStream(join(dir, ...parts))).then(() => next(), (err) => extract.destroy(err));
    } catch (err) {
      stream.resume();
      extract.destroy(err as Error);
    }
  });
  try {
    await pipeline(input, autoDecompress(), extract);
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err;
    throw new InvalidArgumentError(`load: not a valid tar archive: ${(err as Error).message}`);
  }
}

async function readJson<T>(path: string, what: string): Promise<T> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    throw new InvalidArgumentError(`load: ${what}: ${(err as Error).message}`);
  }
}

function safeJoin(dir: string, rel: string, what: string): string {
  return join(dir, ...entryParts(rel, what));
}

async function readDockerArchive(dir: string, each: (img: LoadedImage) => Promise<void>): Promise<void> {
  const manifest = await readJson<Array<{ Config: string; RepoTags?: string[] | null; Layers: string[] }>>(join(dir, 'manifest.json'), 'manifest.json');
  if (!Array.isArray(manifest)) throw new InvalidArgumentError('load: manifest.json is not a list');
  for (const entry of manifest) {
    const configPath = safeJoin(dir, entry.Config, 'manifest.json Config');
    const configBytes = await readFile(configPath).catch(() => {
      throw new InvalidArgumentError(`load: config ${entry.Config} is missing from the archive`);
    });
    const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    const layers = (entry.Layers ?? []).map((l) => {
      const m = /blobs\/sha256\/([a-f0-9]{64})$/.exec(l);
      return { path: safeJoin(dir, l, 'manifest.json Layers'), ...(m ? { digest: `sha256:${m[1]}` } : {}) };
    });
    await each({ config, configBytes, layers, tags: entry.RepoTags ?? [] });
  }
}

async function readOciLayout(dir: string, each: (img: LoadedImage) => Promise<void>): Promise<void> {
  const index = await readJson<Index>(join(dir, 'index.json'), 'index.json');
  const blob = (d: string) => {
    if (!isDigest(d)) throw new InvalidArgumentError(`load: invalid digest ${JSON.stringify(d)} in the OCI layout`);
    return join(dir, 'blobs', 'sha256', d.slice(7));
  };
  for (const desc of index.manifests ?? []) {
    let m: Descriptor = desc;
    let bytes = await readFile(blob(m.digest));
    if (isIndexType(m.mediaType) || /"manifests"\s*:/.test(bytes.toString('utf8'))) {
      const inner = parseIndex(bytes, `index ${m.digest} in the OCI layout`);
      m = selectManifest(inner.manifests, hostPlatform(), 'the OCI layout');
      bytes = await readFile(blob(m.digest));
    }
    const manifest = parseManifest(bytes, `manifest ${m.digest} in the OCI layout`);
    const configBytes = await readFile(blob(manifest.config.digest));
    const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    const name = desc.annotations?.['io.containerd.image.name'];
    await each({
      config,
      configBytes,
      layers: manifest.layers.map((l) => ({ path: blob(l.digest), digest: l.digest })),
      tags: name ? [name] : [],
      manifest: bytes,
    });
  }
}

export function fileStream(path: string): Readable {
  const s = createReadStream(path);
  const p = new PassThrough();
  s.on('error', (e) => p.destroy(new InvalidArgumentError(`load: layer ${path.split('/').slice(-3).join('/')} is missing from the archive (${(e as NodeJS.ErrnoException).code})`)));
  // A consumer that gives up destroys p: the file must close too, or its space stays held after the temp dir is removed.
  p.on('close', () => s.destroy());
  return s.pipe(p);
}
