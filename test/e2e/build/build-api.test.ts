/**
 * POST /build as the API defines it, straight over the socket: compressed contexts,
 * a bare Dockerfile body, ADD of a URL (served on loopback) and of one that cannot be
 * reached, FROM --platform, extra hosts, rm=false, and what is refused (squash, remote).
 */
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bzip2Sync, gzipTar, xzSync, zstdSync } from './compress.js';
import { api, freePort, type Daemon } from '../../fixtures/daemon.js';
import { layerTar } from '../../fixtures/images.js';
import { startRegistry } from '../../fixtures/registry.js';
import { daemonWithBusybox, ok } from '../containers/fixture.js';

let d: Daemon;
let server: Server;
let url: string;

beforeAll(async () => {
  d = await daemonWithBusybox();
  server = createServer((req, res) => {
    if (req.url === '/files/hello.txt') {
      res.writeHead(200, { 'Last-Modified': 'Tue, 01 Jan 2002 00:00:00 GMT' });
      res.end('fetched\n');
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60000);
afterAll(async () => {
  await d?.stop();
  await new Promise((r) => server?.close(r));
});

async function build(query: string, body: Buffer) {
  const res = await api(d, 'POST', `/v1.47/build?${query}`, body);
  const lines = res.lines as Array<{ stream?: string; error?: string; errorDetail?: { message: string; code?: number }; aux?: { ID: string } }>;
  return { status: res.status, text: res.body.toString(), lines, id: lines.find((l) => l.aux)?.aux?.ID, error: lines.find((l) => l.error)?.error };
}

const ctxTar = (dockerfile: string, extra: Array<{ name: string; content: string }> = []) => layerTar([{ name: 'Dockerfile', content: dockerfile }, ...extra]);

test('contexts: plain, gzip, bzip2, xz and zstd tars, corrupt ones refused, and a bare Dockerfile', async () => {
  const tar = await ctxTar('FROM busybox\nCOPY f /f\n', [{ name: 'f', content: 'ctx\n' }]);
  const ids = new Set<string>();
  for (const [name, body] of [['plain', tar], ['gzip', gzipTar(tar)], ['bzip2', bzip2Sync(tar)], ['xz', xzSync(tar)]] as const) {
    const r = await build(`t=comp:${name}`, body);
    expect({ name, error: r.error }).toEqual({ name, error: undefined });
    ids.add(r.id!);
  }
  expect(ids.size).toBe(1);
  // As dockerd's DecompressStream: zstd too.
  const zstd = await build('t=comp:zstd', zstdSync(tar));
  expect(zstd.error).toBeUndefined();
  expect(zstd.id).toBe([...ids][0]);
  // A corrupt compressed context is a 400 naming it, not a build that never answers.
  for (const [name, body] of [['gzip', gzipTar(tar)], ['xz', xzSync(tar)], ['zstd', zstdSync(tar)]] as const) {
    const corrupt = await build('', Buffer.concat([body.subarray(0, 20), Buffer.alloc(200, 7)]));
    expect({ status: corrupt.status, text: corrupt.text }).toEqual({ status: 400, text: expect.stringContaining(`the build context is not a valid ${name} stream`) });
  }
  const bare = await build('t=bare:1', Buffer.from('FROM busybox\nCMD ["echo", "bare"]\n'));
  expect(bare.error).toBeUndefined();
  expect(await ok(d, ['run', '--rm', 'bare:1'])).toBe('bare');
}, 60000);

test('ADD of a URL goes through the engine; an unreachable one fails clearly', async () => {
  const r = await build('t=url:1', await ctxTar(`FROM busybox\nADD ${url}/files/hello.txt /dl/\n`));
  expect(r.error).toBeUndefined();
  expect(await ok(d, ['run', '--rm', 'url:1', 'sh', '-c', 'cat /dl/hello.txt; stat -c "%a %Y" /dl/hello.txt'])).toBe('fetched\n600 1009843200');
  const missing = await build('', await ctxTar(`FROM busybox\nADD ${url}/nothing /x\n`));
  expect(missing.error).toContain('answered 404');
  const closed = await freePort();
  const down = await build('', await ctxTar(`FROM busybox\nADD http://127.0.0.1:${closed}/x /x\n`));
  expect(down.error).toMatch(/ADD failed: cannot fetch http:\/\/127\.0\.0\.1:\d+\/x: ECONNREFUSED/);
}, 60000);

test('FROM --platform, extrahosts, shmsize, networkmode, rm=false', async () => {
  const df = 'FROM --platform=linux/amd64 busybox\nRUN grep db.test /etc/hosts && df -k /dev/shm | tail -1 && ip -o link | cut -d: -f2\n';
  const before = await ok(d, ['ps', '-aq']);
  const r = await build('t=opts:1&extrahosts=db.test:1.2.3.4&shmsize=2097152&networkmode=none&rm=0', await ctxTar(df));
  expect(r.error).toBeUndefined();
  const after = (await ok(d, ['ps', '-aq'])).split('\n').filter((id) => id && !before.includes(id));
  expect(after.length).toBe(1);
  await ok(d, ['rm', after[0]]);
  const out = r.lines.map((l) => l.stream ?? '').join('');
  expect(out).toMatch(/1\.2\.3\.4\s+db\.test/);
  expect(out).toMatch(/^\S+\s+2048\s/m);
  expect(out).toMatch(/^ lo$/m);
  expect(out).not.toMatch(/eth0/);
}, 60000);

test('FROM --platform of another platform than the local image\'s pulls that platform, and fails naming both when the registry has no other', async () => {
  const registry = await startRegistry();
  try {
    const ref = `${registry.host}/plat/bb:1`;
    await ok(d, ['tag', 'busybox', ref]);
    await ok(d, ['push', ref]);
    const r = await build('t=plat:1', await ctxTar(`FROM --platform=linux/arm64 ${ref}\nRUN true\n`));
    expect(r.lines.map((l) => l.stream ?? '').join('')).toContain(`Image not found locally, pulling ${ref}`);
    expect(r.error).toBe(`image with reference ${ref} was found but does not match the specified platform: wanted linux/arm64, actual: linux/amd64`);
  } finally {
    await registry.stop();
  }
}, 60000);

test('squash, remote and BuildKit are refused with a clear answer', async () => {
  const tar = await ctxTar('FROM busybox\n');
  for (const [q, want] of [['squash=1', 'squash is not supported'], ['remote=https://example.invalid/x.git', 'remote build contexts'], ['version=2', 'BuildKit']]) {
    const r = await build(q, tar);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.text).toContain(want);
  }
  const noDf = await build('dockerfile=other/Dockerfile', tar);
  expect(noDf.text).toContain('Cannot locate specified Dockerfile: other/Dockerfile');
  execFileSync('true');
}, 60000);
