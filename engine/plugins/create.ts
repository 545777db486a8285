/**
 * POST /plugins/create: the body is a tar (plain, gzip or zstd) of a plugin
 * directory as `docker plugin create NAME DIR` sends it: config.json and rootfs/.
 * rootfs/ is unpacked with the image layer unpacker (entries cannot land outside
 * it); config.json is parsed and checked. Both must be there.
 */
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidArgumentError } from '../errors.js';
import { autoDecompress } from '../images/decompress.js';
import { tarStream } from '../images/tarlib.js';
import { unpackLayerNative } from '../images/unpack-native.js';
import { parseConfig } from './config.js';
import type { PluginConfig } from './index.js';

const CONFIG_MAX = 1 << 20;

function clean(name: string): string {
  return name.split('/').filter((p) => p !== '' && p !== '.').join('/');
}

/** Unpacks rootfs/ into `rootfsDir`; returns the config and the rootfs tar's digest. */
export async function unpackPluginTar(input: Readable, rootfsDir: string): Promise<{ config: PluginConfig; diffId: string }> {
  const tar = await tarStream();
  const extract = tar.extract();
  const pack = tar.pack();
  const rootfsTar = new PassThrough();
  pack.pipe(rootfsTar);
  const unpacked = unpackLayerNative(rootfsTar, rootfsDir, 'plugin rootfs');
  unpacked.catch(() => undefined);
  let configBytes: Buffer | undefined;
  let sawRootfs = false;

  extract.on('entry', (header, stream, next) => {
    const name = clean(header.name);
    const fail = (err: unknown) => {
      stream.resume();
      extract.destroy(err as Error);
    };
    if (name === 'config.json' && header.type === 'file') {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (c: unknown) => {
        size += (c as Buffer).length;
        if (size <= CONFIG_MAX) chunks.push(c as Buffer);
      });
      stream.on('end', () => {
        if (size > CONFIG_MAX) return fail(new InvalidArgumentError(`config.json is larger than ${CONFIG_MAX} bytes`));
        configBytes = Buffer.concat(chunks);
        next();
      });
      return;
    }
    if (name !== 'rootfs' && !name.startsWith('rootfs/')) {
      stream.on('end', next);
      stream.resume();
      return;
    }
    sawRootfs = true;
    const inner = name.slice('rootfs'.length + 1);
    if (!inner) {
      stream.on('end', next);
      stream.resume();
      return;
    }
    const linkname = header.type === 'link' && header.linkname ? clean(header.linkname).replace(/^rootfs\//, '') : header.linkname;
    const entry = pack.entry({ ...header, name: inner, linkname }, (err) => (err ? fail(err) : next()));
    stream.pipe(entry);
  });

  try {
    await pipeline(input, autoDecompress(), extract);
    pack.finalize();
    await unpacked;
  } catch (err) {
    pack.destroy();
    rootfsTar.destroy();
    await unpacked.catch(() => undefined);
    if (err instanceof InvalidArgumentError) throw err;
    throw new InvalidArgumentError(`reading the plugin tar: ${(err as Error).message}`);
  }
  if (!configBytes) throw new InvalidArgumentError('config not found: the plugin tar must hold config.json next to rootfs/');
  if (!sawRootfs) throw new InvalidArgumentError('no rootfs found: the plugin tar must hold a rootfs/ directory next to config.json');
  const config = parseConfig(configBytes);
  return { config, diffId: (await unpacked).diffId };
}
