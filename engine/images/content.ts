/**
 * Content store: blobs by digest under content/sha256/<hex>. Writes go to
 * content/ingest/ and are renamed into place only after digest and size check,
 * so a blob in the store is always whole and correct. Ingest leftovers from a
 * crash are removed at start.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import { hexOf, isDigest } from './digest.js';

export interface BlobInfo {
  digest: string;
  size: number;
}

export interface Expected {
  digest?: string;
  size?: number;
}

/** Reads blobs. */
export interface Provider {
  info(digest: string): Promise<BlobInfo | undefined>;
  reader(digest: string): Readable;
  read(digest: string): Promise<Buffer>;
}

/** Writes blobs, verified. */
export interface Ingester {
  /** Stores the stream's bytes; rejects (storing nothing) when digest or size differ. */
  ingest(stream: Readable | AsyncIterable<Uint8Array>, expected: Expected, what?: string): Promise<BlobInfo>;
  put(data: Uint8Array, expected?: Expected, what?: string): Promise<BlobInfo>;
}

export interface Manager {
  delete(digest: string): Promise<void>;
  walk(): AsyncIterable<BlobInfo>;
}

export class ContentStore implements Provider, Ingester, Manager {
  private readonly blobs: string;
  private readonly ingestDir: string;

  constructor(root: string) {
    this.blobs = join(root, 'sha256');
    this.ingestDir = join(root, 'ingest');
  }

  async init(): Promise<void> {
    await mkdir(this.blobs, { recursive: true });
    // Partial downloads of a previous run can't be resumed safely: start over.
    await rm(this.ingestDir, { recursive: true, force: true });
    await mkdir(this.ingestDir, { recursive: true });
  }

  private path(digest: string): string {
    if (!isDigest(digest)) throw new InvalidArgumentError(`invalid digest ${JSON.stringify(digest)}`);
    return join(this.blobs, hexOf(digest));
  }

  async info(digest: string): Promise<BlobInfo | undefined> {
    try {
      const st = await stat(this.path(digest));
      return { digest, size: st.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  reader(digest: string): ReadStream {
    return createReadStream(this.path(digest), { highWaterMark: 1 << 20 });
  }

  async read(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.path(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`content ${digest}: not found`);
      throw err;
    }
  }

  async put(data: Uint8Array, expected: Expected = {}, what = 'blob'): Promise<BlobInfo> {
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    check(what, expected, digest, data.length);
    if (await this.info(digest)) return { digest, size: data.length };
    const tmp = join(this.ingestDir, randomBytes(8).toString('hex'));
    const fh = await open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path(digest));
    return { digest, size: data.length };
  }

  async ingest(stream: Readable | AsyncIterable<Uint8Array>, expected: Expected, what = 'blob'): Promise<BlobInfo> {
    const tmp = join(this.ingestDir, randomBytes(8).toString('hex'));
    const hash = createHash('sha256');
    let size = 0;
    try {
      const out = createWriteStream(tmp, { mode: 0o644 });
      // A transform, not an async generator: a paused stream's iterator hands out all it
      // has buffered as one chunk, a copy of every byte of a layer.
      const counted = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          size += chunk.length;
          if (expected.size !== undefined && size > expected.size) return cb(new InvalidArgumentError(`${what}: more data than the ${expected.size} bytes announced`));
          hash.update(chunk);
          cb(null, chunk);
        },
      });
      await pipeline(stream, counted, out);
      const digest = `sha256:${hash.digest('hex')}`;
      check(what, expected, digest, size);
      // No fsync for layer-sized blobs: a process crash keeps the page cache, and
      // the names (metadata) that point at blobs are written atomically with fsync.
      await rename(tmp, this.path(digest));
      return { digest, size };
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async delete(digest: string): Promise<void> {
    await rm(this.path(digest), { force: true });
  }

  async *walk(): AsyncIterable<BlobInfo> {
    for (const name of await readdir(this.blobs)) {
      const digest = `sha256:${name}`;
      if (!isDigest(digest)) continue;
      const info = await this.info(digest);
      if (info) yield info;
    }
  }
}

function check(what: string, expected: Expected, digest: string, size: number): void {
  if (expected.size !== undefined && size !== expected.size) {
    throw new InvalidArgumentError(`${what}: size ${size} does not match the ${expected.size} bytes announced (truncated or lying manifest)`);
  }
  if (expected.digest !== undefined && digest !== expected.digest) {
    throw new InvalidArgumentError(`${what}: digest mismatch: expected ${expected.digest}, got ${digest}`);
  }
}
