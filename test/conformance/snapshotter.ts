/**
 * One conformance suite for every snapshotter: prepare on an image, change
 * files through the real mounts (in a private mount namespace), then changes(),
 * diffTar() and a commit that a second snapshot sees.
 *
 *   snapshotterSuite('overlay2');   // in a *.test.ts file
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { parseDaemonArgs } from '../../engine/config.js';
import { EventBus } from '../../engine/events.js';
import { createImageService, type LocalImageService } from '../../engine/images/service.js';
import { createSnapshotter } from '../../engine/snapshots/factory.js';
import type { Mount, Snapshotter } from '../../engine/snapshots/index.js';
import { busyboxEntries, layerTar } from '../fixtures/images.js';

/** Runs a shell script with the snapshot mounted at $R, in a private mount namespace. */
export function inMounted(mounts: Mount[], script: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-mnt-'));
  try {
    const m = mounts[0];
    const mount = m.type === 'overlay' ? `mount -t overlay overlay -o '${m.options.join(',')}' "$R"` : `mount --bind '${m.source}' "$R"`;
    return execFileSync('unshare', ['-m', '--propagation', 'private', 'sh', '-euc', `R=${dir}; ${mount}; ${script}`], { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function tarNames(stream: Readable): Promise<Map<string, tar.Header>> {
  const out = new Map<string, tar.Header>();
  const extract = tar.extract();
  extract.on('entry', (h, s, next) => {
    out.set(h.name, h);
    s.resume();
    s.on('end', next);
  });
  stream.pipe(extract);
  await new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('error', reject);
    stream.on('error', reject);
  });
  return out;
}

export function snapshotterSuite(driver: 'overlay2' | 'vfs'): void {
  let root: string;
  let images: LocalImageService;
  let snaps: Snapshotter;
  let baseId: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), `berth-snap-${driver}-`));
    // Parsed like berthd's flags, so new config fields get their defaults.
    const { config } = parseDaemonArgs(['--data-root', join(root, 'data'), '--exec-root', join(root, 'run'), '--storage-driver', driver, '--log-level', 'error']);
    for (const d of ['content', 'images', 'layers', 'snapshots']) mkdirSync(join(config.dataRoot, d), { recursive: true });
    images = await createImageService(config, new EventBus());
    snaps = createSnapshotter(config, images.layerDirs);
    const tarBytes = await layerTar(busyboxEntries([{ name: 'etc/motd', content: 'base\n' }, { name: 'opt/' }, { name: 'opt/a', content: 'a\n' }, { name: 'opt/b', content: 'b\n' }]));
    baseId = await images.importTar(Readable.from([tarBytes]), { repo: 'base/image', tag: 'v1' });
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  test(`${driver}: prepare gives a working rootfs of the image`, async () => {
    const img = await images.resolve(baseId);
    const mounts = await snaps.prepare('c1', img.chainId);
    expect(snaps.driver).toBe(driver);
    expect(await snaps.list()).toContain('c1');
    expect(inMounted(mounts, 'cat "$R/etc/motd"; "$R/bin/busybox" echo ran')).toBe('base\nran\n');
    await expect(snaps.prepare('c1', img.chainId)).rejects.toThrow(/already exists/);
  });

  test(`${driver}: changes and diffTar report additions, modifications and deletions`, async () => {
    const mounts = await snaps.mounts('c1');
    inMounted(mounts, 'echo new > "$R/etc/new"; echo changed > "$R/etc/motd"; rm "$R/etc/group"; rm -r "$R/opt"; mkdir "$R/opt"; echo c > "$R/opt/c"');
    const changes = await snaps.changes('c1');
    const byPath = Object.fromEntries(changes.map((c) => [c.Path, c.Kind]));
    expect(byPath['/etc/new']).toBe(1);
    expect(byPath['/etc/motd']).toBe(0);
    expect(byPath['/etc/group']).toBe(2);
    expect(byPath['/opt/c']).toBe(1);
    expect(byPath['/bin/busybox']).toBeUndefined();
    const names = await tarNames(snaps.diffTar('c1'));
    expect(names.has('etc/new')).toBe(true);
    expect(names.has('etc/motd')).toBe(true);
    expect(names.has('etc/.wh.group')).toBe(true);
    expect(names.has('opt/c')).toBe(true);
    expect(names.has('bin/busybox')).toBe(false);
    expect(await snaps.usage('c1')).toBeGreaterThan(0);
  });

  test(`${driver}: commit of the diff makes an image whose snapshot shows the changes`, async () => {
    const id = await images.commit({ layerTar: snaps.diffTar('c1'), parentImageId: baseId, config: { Cmd: ['sh'] }, repo: 'committed/image', tag: 'v2', author: 'test', comment: 'conformance' });
    const img = await images.resolve('committed/image:v2');
    expect(img.id).toBe(id);
    expect(img.parent).toBe(baseId);
    expect(img.config.rootfs.diff_ids).toHaveLength(2);
    expect(img.config.author).toBe('test');
    const mounts = await snaps.prepare('c2', img.chainId);
    const out = inMounted(mounts, 'cat "$R/etc/new" "$R/etc/motd"; ls "$R/opt"; test -e "$R/etc/group" && echo group-exists || echo group-gone');
    expect(out).toBe('new\nchanged\nc\ngroup-gone\n');
    // The parent can't go while its child exists.
    await expect(images.remove(baseId, { force: true })).rejects.toThrow(/dependent child images/);
  });

  test(`${driver}: an image of 60 layers mounts (overlay's option length limit)`, async () => {
    let chain: string | undefined;
    const diffIds: string[] = [];
    for (let i = 0; i < 60; i++) {
      const tarBytes = await layerTar(i === 0 ? busyboxEntries() : [{ name: `layer${i}`, content: `${i}\n` }]);
      const layer = await images.addLayer(Readable.from([tarBytes]), chain, `layer ${i}`);
      chain = layer.chainId;
      diffIds.push(layer.diffId);
    }
    const id = await images.register({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } }, chain, '', undefined);
    const img = await images.resolve(id);
    const mounts = await snaps.prepare('deep', img.chainId);
    try {
      expect(inMounted(mounts, 'cat "$R/layer1" "$R/layer59"; ls "$R" | grep -c layer')).toBe('1\n59\n59\n');
    } finally {
      await snaps.remove('deep');
    }
  });

  test(`${driver}: remove deletes the snapshot`, async () => {
    await snaps.remove('c1');
    await snaps.remove('c2');
    expect(await snaps.list()).toEqual([]);
    await expect(snaps.mounts('c1')).rejects.toThrow(/not found/);
    await expect(snaps.remove('c1')).rejects.toThrow(/not found/);
  });
}
