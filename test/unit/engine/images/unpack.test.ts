/** unpackLayer on the real filesystem: overlay form, replacements, compression. */
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { listXattrs } from '../../../../engine/images/fsops.js';
import { unpackLayer } from '../../../../engine/images/unpack.js';
import { compress, layerTar, sha256 } from '../../../fixtures/images.js';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'berth-unpack-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

let n = 0;
const dest = () => join(work, `d${++n}`);

test('later entries replace earlier ones; implicit parents; whiteouts and opaque dirs in overlay form', async () => {
  const tar = await layerTar([
    { name: 'etc/f', content: 'first' },
    { name: 'etc/f', content: 'second' },
    { name: 'a', linkname: 'elsewhere' },
    { name: 'a/', mode: 0o750 },
    { name: 'a/inside', content: 'ok' },
    { name: 'deep/er/file', content: 'implicit parents' },
    { name: 'gone', content: 'x' },
    { name: '.wh.gone' },
    { name: 'opq/' },
    { name: 'opq/.wh..wh..opq' },
    { name: 'dated/', mtime: new Date('2020-01-01T00:00:00Z') },
    { name: 'dated/child', content: 'writing here must not change the dir mtime' },
    { name: 'suid-root', content: 'x', mode: 0o4755 },
    { name: 'group-writable', content: 'x', mode: 0o664 },
    { name: 'sticky/', mode: 0o1777 },
  ]);
  const d = dest();
  const r = await unpackLayer(Readable.from([tar]), d, 'test layer');
  expect(r.diffId).toBe(sha256(tar));
  expect(readFileSync(join(d, 'etc/f'), 'utf8')).toBe('second');
  expect(lstatSync(join(d, 'a')).isDirectory()).toBe(true);
  expect(lstatSync(join(d, 'a')).mode & 0o777).toBe(0o750);
  expect(readFileSync(join(d, 'a/inside'), 'utf8')).toBe('ok');
  expect(readFileSync(join(d, 'deep/er/file'), 'utf8')).toBe('implicit parents');
  const wh = lstatSync(join(d, 'gone'));
  expect(wh.isCharacterDevice() && wh.rdev === 0).toBe(true);
  const [x] = await listXattrs([join(d, 'opq')]);
  expect(x['trusted.overlay.opaque']?.toString()).toBe('y');
  expect(lstatSync(join(d, 'dated')).mtime.toISOString()).toBe('2020-01-01T00:00:00.000Z');
  expect(lstatSync(join(d, 'suid-root')).mode & 0o7777).toBe(0o4755);
  expect(lstatSync(join(d, 'group-writable')).mode & 0o7777).toBe(0o664);
  expect(lstatSync(join(d, 'sticky')).mode & 0o7777).toBe(0o1777);
});

test('gzip, zstd and plain tars give the same diff id and files', async () => {
  const tar = await layerTar([{ name: 'x/', mode: 0o755 }, { name: 'x/y', content: 'z'.repeat(100_000) }, { name: 'l', linkname: 'x/y' }]);
  for (const c of ['gzip', 'zstd', 'none'] as const) {
    const d = dest();
    const r = await unpackLayer(Readable.from([compress(tar, c)]), d, `${c} layer`);
    expect(r.diffId).toBe(sha256(tar));
    expect(r.size).toBe(100_000);
    expect(readlinkSync(join(d, 'l'))).toBe('x/y');
  }
});

test('garbage and truncated tars are refused', async () => {
  await expect(unpackLayer(Readable.from([Buffer.alloc(1024, 7)]), dest(), 'junk layer')).rejects.toThrow(/junk layer: .*not a valid tar/);
  const tar = await layerTar([{ name: 'f', content: 'y'.repeat(5000) }]);
  await expect(unpackLayer(Readable.from([tar.subarray(0, 2048)]), dest(), 'cut layer')).rejects.toThrow(/cut layer: .*truncated/);
});
