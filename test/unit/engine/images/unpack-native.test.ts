/**
 * The native unpacker (berth-runtime unpack, what pulls use) against the
 * TypeScript one (engine/images/unpack.ts, the reference): the same tars give
 * the same trees (names, types, modes, owners, mtimes, xattrs, link targets,
 * device numbers, contents), the same diff id and size, and the same refusals.
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { listXattrs } from '../../../../engine/images/fsops.js';
import { unpackLayer } from '../../../../engine/images/unpack.js';
import { unpackLayerNative } from '../../../../engine/images/unpack-native.js';
import { busyboxEntries, compress, layerTar, requireBusybox, sha256, type TarEntry } from '../../../fixtures/images.js';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'berth-unpack-native-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const started = Date.now() - 60_000;
let n = 0;
const dest = () => join(work, `d${++n}`);

/** One line per path, everything unpack sets; whiteouts' mtimes are the time of unpack, left out. */
async function tree(root: string): Promise<string[]> {
  const paths: string[] = [];
  const walk = (rel: string) => {
    paths.push(rel);
    const st = lstatSync(join(root, rel));
    if (st.isDirectory()) for (const e of readdirSync(join(root, rel)).sort()) walk(rel ? `${rel}/${e}` : e);
  };
  walk('');
  const xattrs = await listXattrs(paths.map((p) => join(root, p)));
  return paths.map((p, i) => {
    const abs = join(root, p);
    const st = lstatSync(abs);
    const type = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : st.isCharacterDevice() ? 'chr' : st.isBlockDevice() ? 'blk' : st.isFIFO() ? 'fifo' : 'other';
    const whiteout = type === 'chr' && st.rdev === 0;
    const extra = type === 'file' ? createHash('sha256').update(readFileSync(abs)).digest('hex').slice(0, 16) : type === 'symlink' ? readlinkSync(abs) : `${st.rdev}`;
    const x = Object.entries(xattrs[i]).map(([k, v]) => `${k}=${v.toString('hex')}`).sort().join(',');
    // Whiteouts and directories made implicitly get the time of unpack.
    const mtime = whiteout || p === '' || st.mtimeMs > started ? '-' : String(st.mtimeMs);
    return `${p || '.'} ${type} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} nlink=${type === 'dir' ? '-' : st.nlink} ${mtime} ${extra} ${x}`;
  });
}

type Outcome = { ok: true; diffId: string; size: number; tree: string[] } | { ok: false; error: string };

async function both(tar: Buffer): Promise<[Outcome, Outcome]> {
  const run = async (f: typeof unpackLayer): Promise<Outcome> => {
    const d = dest();
    try {
      const r = await f(Readable.from([tar]), d, 'layer');
      return { ok: true, ...r, tree: await tree(d) };
    } catch (err) {
      // Refusals of escapes must read the same; other failures (a system call, a hardlink
      // to a whiteout unpack.ts has not made yet) may be worded differently.
      const msg = (err as Error).message;
      return { ok: false, error: /refused|not a valid tar|truncated/.test(msg) ? msg : 'failed' };
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  };
  return [await run(unpackLayer), await run(unpackLayerNative)];
}

async function same(entriesOrTar: TarEntry[] | Buffer): Promise<Outcome> {
  const tar = Buffer.isBuffer(entriesOrTar) ? entriesOrTar : await layerTar(entriesOrTar);
  const [ts, native] = await both(tar);
  expect(native).toEqual(ts);
  return native;
}

/** A raw tar header block (ustar or GNU), for entries tar-stream does not write. */
function block(name: string, type: string, size: number, opts: { gnu?: boolean; mode?: number; linkname?: string } = {}): Buffer {
  const b = Buffer.alloc(512);
  b.write(name.slice(0, 100), 0);
  b.write(`${(opts.mode ?? 0o644).toString(8).padStart(7, '0')}\0`, 100);
  b.write('0000000\0', 108);
  b.write('0000000\0', 116);
  b.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  b.write(`${(1_700_000_000).toString(8).padStart(11, '0')}\0`, 136);
  b.write(type, 156);
  if (opts.linkname) b.write(opts.linkname.slice(0, 100), 157);
  b.write(opts.gnu ? 'ustar  \0' : 'ustar\x0000', 257);
  b.fill(' ', 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return b;
}
const padded = (data: Buffer) => Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
const raw = (...parts: Buffer[]) => Buffer.concat([...parts, Buffer.alloc(1024)]);

test('overlay form, replacements, modes, owners, mtimes', async () => {
  const r = await same([
    { name: 'etc/f', content: 'first' },
    { name: 'etc/f', content: 'second', uid: 1000, gid: 1001, mode: 0o640 },
    { name: 'a', linkname: 'elsewhere' },
    { name: 'a/', mode: 0o750, uid: 5, gid: 6 },
    { name: 'a/inside', content: 'ok' },
    { name: 'deep/er/file', content: 'implicit parents' },
    { name: 'gone', content: 'x' },
    { name: '.wh.gone' },
    { name: '.wh.never-there' },
    { name: 'opq/' },
    { name: 'opq/.wh..wh..opq' },
    { name: 'dated/', mtime: new Date('2020-01-01T00:00:00Z') },
    { name: 'dated/child', content: 'writing here must not change the dir mtime' },
    { name: 'suid-root', content: 'x', mode: 0o4755 },
    { name: 'setgid-user', content: 'x', mode: 0o2755, uid: 100, gid: 100 },
    { name: 'group-writable', content: 'x', mode: 0o664 },
    { name: 'sticky/', mode: 0o1777 },
    { name: 'dir-then-file/', mode: 0o700 },
    { name: 'dir-then-file/child', content: 'gone with its dir' },
    { name: 'dir-then-file', content: 'now a file' },
    { name: 'link-owned', linkname: '/nowhere', uid: 7, gid: 8 },
    { name: 'big', content: Buffer.alloc(3 << 20, 0x61) },
  ]);
  expect(r.ok).toBe(true);
});

test('hardlinks, devices, fifos, pax xattrs and fractional mtimes, long names', async () => {
  const long = `${'d'.repeat(120)}/${'e'.repeat(130)}/${'f'.repeat(200)}`;
  const r = await same([
    { name: 'bin/', mode: 0o755 },
    { name: 'bin/real', content: 'binary', mode: 0o755, uid: 3 },
    { name: 'bin/hard', type: 'link', linkname: 'bin/real' },
    { name: './bin/hard2', type: 'link', linkname: './bin/real' },
    { name: 'dev/', mode: 0o755 },
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'dev/sda', type: 'block-device' as TarEntry['type'], devmajor: 8, devminor: 0, mode: 0o660, gid: 6 },
    { name: 'dev/fifo', type: 'fifo', mode: 0o600 },
    { name: 'cap', content: 'x', pax: { 'SCHILY.xattr.security.capability': '\x01\x00\x00\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00', 'SCHILY.xattr.user.note': 'hello' } },
    { name: 'xdir/', pax: { 'SCHILY.xattr.user.dir': 'on a dir' } },
    { name: 'frac', content: 'x', pax: { mtime: '1700000000.123456789' } },
    { name: `${long}`, content: 'deep and long' },
    { name: `${long}-link`, linkname: `${'t'.repeat(300)}` },
  ]);
  expect(r.ok).toBe(true);
});

test('GNU long names and links, global pax headers, LIBARCHIVE xattrs', async () => {
  const longName = `gnu/${'n'.repeat(150)}`;
  const longLink = `gnu/${'l'.repeat(150)}`;
  const paxRecord = (k: string, v: string) => {
    const body = ` ${k}=${v}\n`;
    let len = body.length;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    return `${len}${body}`;
  };
  const global = Buffer.from(paxRecord('uid', '4242'));
  const local = Buffer.from(paxRecord('LIBARCHIVE.xattr.user.b%3Dx', Buffer.from('base64 value').toString('base64')));
  const tar = raw(
    block('gnu/', '5', 0, { mode: 0o755 }),
    block('././@LongLink', 'L', longName.length + 1, { gnu: true }),
    padded(Buffer.from(`${longName}\0`)),
    block(longName.slice(0, 100), '0', 4, { gnu: true }),
    padded(Buffer.from('data')),
    block('././@LongLink', 'K', longLink.length + 1, { gnu: true }),
    padded(Buffer.from(`${longLink}\0`)),
    block('gnu/sym', '2', 0, { gnu: true, linkname: longLink.slice(0, 100) }),
    block('pax_global_header', 'g', global.length),
    padded(global),
    block('owned-by-global', '0', 1),
    padded(Buffer.from('1')),
    block('PaxHeaders/x', 'x', local.length),
    padded(local),
    block('libarchive-xattr', '0', 1),
    padded(Buffer.from('2')),
    block('label', 'V', 0),
    block('sparse', 'S', 3),
    padded(Buffer.from('abc')),
  );
  const r = await same(tar);
  expect(r.ok).toBe(true);
});

test('busybox: a real root filesystem, plain, gzip and zstd', async () => {
  requireBusybox();
  const tar = await layerTar(busyboxEntries());
  for (const c of ['none', 'gzip', 'zstd'] as const) {
    const [ts, native] = await both(compress(tar, c));
    expect(native).toEqual(ts);
    expect(native.ok && native.diffId).toBe(sha256(tar));
  }
});

test('gzip as node reads it: members in a row and zero padding kept; cut short, junk after, or not gzip refused', async () => {
  // Past the decoder's 1 MB reads, incompressible: a member ends inside a read.
  const tar = await layerTar([{ name: 'a/' }, { name: 'a/big', content: randomBytes(1_500_000).toString('base64') }, { name: 'a/small', content: 'z' }]);
  const cut = tar.length / 2 + 7;
  const gz = gzipSync(tar);
  const members = Buffer.concat([gzipSync(tar.subarray(0, cut)), gzipSync(tar.subarray(cut))]);
  for (const ok of [members, Buffer.concat([gz, Buffer.alloc(300)])]) {
    const [ts, native] = await both(ok);
    expect(native).toEqual(ts);
    expect(native.ok && native.diffId).toBe(sha256(tar));
  }
  const bad = [gz.subarray(0, gz.length - 9), gz.subarray(0, 1000), Buffer.concat([gz, Buffer.from('junk')]), Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3])];
  for (const b of bad) {
    const [ts, native] = await both(b);
    expect(ts.ok).toBe(false);
    expect(native).toEqual(ts);
  }
  await expect(unpackLayerNative(Readable.from([Buffer.concat([gz, Buffer.from('junk')])]), dest(), 'that layer')).rejects.toThrow('that layer: cannot unpack: the layer is not a valid gzip stream (incorrect header check)');
  await expect(unpackLayerNative(Readable.from([gz.subarray(0, 1000)]), dest(), 'that layer')).rejects.toThrow('that layer: cannot unpack: the layer is not a valid gzip stream (unexpected end of file)');
});

test('escapes are refused alike, naming the entry', async () => {
  const cases: TarEntry[][] = [
    [{ name: 'etc/' }, { name: '../escaped', content: 'x' }],
    [{ name: 'a/../../escaped', content: 'x' }],
    [{ name: '/etc/escaped', content: 'x' }],
    [{ name: 'evil', linkname: '/etc' }, { name: 'evil/escaped', content: 'x' }],
    [{ name: 'evil', linkname: '../../..' }, { name: 'evil/deeper/escaped', content: 'x' }],
    [{ name: 'd/' }, { name: 'd/evil', linkname: '/' }, { name: 'd/evil/etc/escaped', content: 'x' }],
    [{ name: 'etc/' }, { name: 'etc/pw', type: 'link', linkname: '../../../etc/passwd' }],
    [{ name: 'hard', type: 'link', linkname: '/etc/passwd' }],
    [{ name: 'evil', linkname: '/etc' }, { name: 'pw', type: 'link', linkname: 'evil/passwd' }],
    [{ name: 'evil', linkname: '/etc/passwd' }, { name: 'pw', type: 'link', linkname: 'evil' }],
    [{ name: 'pw', type: 'link', linkname: 'not/there' }],
    [{ name: 'evil', linkname: '/etc' }, { name: 'evil/', mode: 0o755 }, { name: 'evil/now-inside', content: 'a dir replaced the symlink' }],
    // The symlink a/c went with its directory: the hardlink is to nothing, not through it.
    [{ name: 'a/c', linkname: 'a' }, { name: 'a', content: '' }, { name: 'x', type: 'link', linkname: 'a/c' }],
  ];
  for (const entries of cases) {
    const [ts, native] = await both(await layerTar(entries));
    expect(native).toEqual(ts);
    if (entries.length > 0 && !entries.some((e) => e.name === 'evil/')) expect(native.ok).toBe(false);
  }
});

test('garbage, truncated and oversized tars are refused', async () => {
  const tar = await layerTar([{ name: 'f', content: 'y'.repeat(5000) }]);
  for (const bad of [Buffer.alloc(1024, 7), tar.subarray(0, 2048), tar.subarray(0, 700)]) {
    const [ts, native] = await both(bad);
    expect(ts.ok).toBe(false);
    expect(native.ok).toBe(false);
    expect(native.ok || native.error).toMatch(ts.ok ? /never/ : /not a valid tar|truncated/);
  }
  const huge = raw(block('PaxHeaders/x', 'x', 64 << 20));
  await expect(unpackLayerNative(Readable.from([huge]), dest(), 'huge layer')).rejects.toThrow(/huge layer: .*metadata record of 67108864 bytes/);
});

test('numbers out of range: a time past a Date, a negative size, a base-256 size past 2^63', async () => {
  const paxRecord = (k: string, v: string) => {
    const body = ` ${k}=${v}\n`;
    let len = body.length;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    return Buffer.from(`${len}${body}`);
  };
  const withPax = (k: string, v: string) => raw(block('PaxHeaders/f', 'x', paxRecord(k, v).length), padded(paxRecord(k, v)), block('f', '0', 0));
  for (const t of ['1e300', 'nan', '-8640000000001']) {
    await same(withPax('mtime', t));
    await expect(unpackLayerNative(Readable.from([withPax('mtime', t)]), dest(), 'layer')).rejects.toThrow(`layer: cannot unpack: entry "f" has an mtime out of range (${t})`);
  }
  await expect(unpackLayerNative(Readable.from([withPax('size', '-5')]), dest(), 'layer')).rejects.toThrow('layer: cannot unpack: entry "f" has a negative size (-5)');
  const b256 = block('f', '0', 0);
  b256.fill(0xff, 124, 136);
  b256.fill(' ', 148, 156);
  let sum = 0;
  for (const x of b256) sum += x;
  b256.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  expect(await same(raw(b256))).toEqual({ ok: false, error: expect.stringMatching(/ends in the middle of an entry \(truncated\)$/) });
});

test('random layers unpack alike (property)', async () => {
  const name = fc.constantFrom('a', 'b', 'a/b', 'a/c', 'b/a', 'a/b/c', 'a/.wh..wh..opq', '.wh..wh.x', './a', 'a/./b');
  // Whiteouts, fifos and devices only where no entry goes through: unpack.ts makes them
  // after the last entry, so a directory made through one (a malformed layer) differs.
  const leaf = fc.constantFrom('w', 'a/w', 'b/a/w');
  const whiteout = leaf.map((l) => l.replace(/w$/, '.wh.w'));
  const entry = fc.oneof(
    fc.record({ name, content: fc.string({ maxLength: 20 }), mode: fc.constantFrom(0o644, 0o755, 0o4711, 0o600), uid: fc.constantFrom(0, 1000) }),
    fc.record({ name: name.map((x) => `${x}/`), mode: fc.constantFrom(0o755, 0o700, 0o1777) }),
    fc.record({ name, linkname: fc.constantFrom('a', 'b', '/x', '../..', 'a/b') }),
    fc.record({ name, type: fc.constant('link' as const), linkname: fc.constantFrom('a', 'b', 'a/b', 'a/c') }),
    fc.record({ name: whiteout }),
    fc.record({ name: leaf, type: fc.constant('fifo' as const), mode: fc.constant(0o640) }),
    fc.record({ name: leaf, content: fc.constant('leaf') }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 8 }), async (entries) => {
      const [ts, native] = await both(await layerTar(entries as TarEntry[]));
      expect(native).toEqual(ts);
    }),
    { numRuns: 60 },
  );
}, 300_000);

test('a missing unpacker fails the unpack, naming the binary and the fix', async () => {
  const saved = process.env.BERTH_RUNTIME;
  process.env.BERTH_RUNTIME = join(work, 'no-such-berth-runtime');
  try {
    await expect(unpackLayerNative(Readable.from([await layerTar([{ name: 'f', content: 'x' }])]), dest(), 'some layer')).rejects.toThrow(/some layer: cannot unpack: the layer unpacker .*no-such-berth-runtime is missing \(build it with npm run build/);
  } finally {
    if (saved === undefined) delete process.env.BERTH_RUNTIME;
    else process.env.BERTH_RUNTIME = saved;
  }
});
