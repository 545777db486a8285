import { join } from 'node:path';

/**
 * Where built VM images live: <store>/cache/images/debian-RELEASE.{raw,qcow2}, the
 * kernel and initrd beside them for direct boot, and a manifest written last (an
 * image without its manifest is an unfinished build). A leaf module: drivers read it.
 */
export interface ImagePaths {
  name: string;
  dir: string;
  raw: string;
  qcow2: string;
  kernel: string;
  initrd: string;
  manifest: string;
}

export function imageCacheDir(storeRoot: string): string {
  return join(storeRoot, 'cache', 'images');
}

export function imagePaths(dir: string, release: string): ImagePaths {
  const name = `debian-${release}`;
  return {
    name, dir,
    raw: join(dir, `${name}.raw`),
    qcow2: join(dir, `${name}.qcow2`),
    kernel: join(dir, `${name}.vmlinuz`),
    initrd: join(dir, `${name}.initrd`),
    manifest: join(dir, `${name}.json`),
  };
}

/** What `image build` records about an image; the kernel command line is what direct boot passes. */
export interface ImageManifest {
  name: string;
  release: string;
  mirror: string;
  builtAt: string;
  kernelVersion: string;
  /** Kernel arguments naming the root device; the driver adds console and clock arguments. */
  cmdline: string;
  /** Hash of what went into the image (files, units, packages): a cache of another recipe is stale. */
  recipe: string;
  rawBytes: number;
  qcow2Bytes: number;
}

export const DEFAULT_RELEASE = 'bookworm';
