/**
 * GC against registrations that happen while it runs: the fault campaign's seed
 * 625182570 left an image whose config blob a concurrent rmi's GC had taken.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentStore } from '../../../../engine/images/content.js';
import { collectGarbage } from '../../../../engine/images/gc.js';
import { LayerStore } from '../../../../engine/images/layers.js';
import { Leases } from '../../../../engine/images/leases.js';
import { ImageMetaStore } from '../../../../engine/images/store.js';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'berth-gc-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

let n = 0;
async function stores() {
  const root = join(work, `r${++n}`);
  for (const d of ['content', 'layers', 'images']) await mkdir(join(root, d), { recursive: true });
  const content = new ContentStore(join(root, 'content'));
  const layers = new LayerStore(join(root, 'layers'));
  const meta = new ImageMetaStore(join(root, 'images'));
  await content.init();
  await layers.init();
  await meta.init();
  return { content, layers, meta, leases: new Leases() };
}

/** Registers an image the way the image service does: lease, blob, record, release. */
async function register(s: Awaited<ReturnType<typeof stores>>, text: string): Promise<string> {
  const lease = s.leases.open();
  try {
    const { digest } = await s.content.put(Buffer.from(text));
    lease.add(digest);
    await s.meta.put({ id: digest, size: 0, parent: '', created: new Date(0).toISOString(), manifests: [] });
    return digest;
  } finally {
    lease.close();
  }
}

test('an image registered after the GC read the records keeps its config blob', async () => {
  const s = await stores();
  const orphan = (await s.content.put(Buffer.from('nobody refers to this'))).digest;
  let registered = '';
  // The walk pauses before its first blob: the registration happens entirely inside
  // the window between the GC reading the records and deleting blobs.
  const walk = s.content.walk.bind(s.content);
  s.content.walk = async function* () {
    registered = await register(s, '{"config":{}}');
    yield* walk();
  };
  const gc = await collectGarbage(s.content, s.layers, s.meta, s.leases);
  expect(gc.blobs).toEqual([orphan]);
  expect(await s.content.info(registered)).toBeDefined();
  expect(s.meta.get(registered)).toBeDefined();
});

test('what was leased and released during one GC is judged afresh by the next', async () => {
  const s = await stores();
  const walk = s.content.walk.bind(s.content);
  let dropped = '';
  s.content.walk = async function* () {
    const lease = s.leases.open();
    dropped = (await s.content.put(Buffer.from('work that failed'))).digest;
    lease.add(dropped);
    lease.close();
    yield* walk();
  };
  await collectGarbage(s.content, s.layers, s.meta, s.leases);
  expect(await s.content.info(dropped)).toBeDefined();
  s.content.walk = walk;
  const next = await collectGarbage(s.content, s.layers, s.meta, s.leases);
  expect(next.blobs).toEqual([dropped]);
});
