/**
 * Hostile registries and layers: every bad input is refused with a clear
 * error, and the store is left as it was (no blobs, layers, images, partials).
 */
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { api, startDaemon, type Daemon } from '../../fixtures/daemon.js';
import { buildImage, imageFromLayers, makeLayer, pushImage, sha256, type Image } from '../../fixtures/images.js';
import { startProxy, startRegistry, type Registry } from '../../fixtures/registry.js';

let registry: Registry;
let daemon: Daemon;
let proxy: Awaited<ReturnType<typeof startProxy>>;
let good: Image;
const tamper = new Map<string, 'swap' | 'truncate'>();
let flaky = 0;

function storeEntries(): string[] {
  const d = daemon.dataRoot;
  const list = (p: string) => (existsSync(join(d, p)) ? readdirSync(join(d, p)).map((n) => `${p}/${n}`) : []);
  return [...list('content/sha256'), ...list('content/ingest'), ...list('layers').filter((n) => n !== 'layers/l'), ...list('layers/l'), ...list('images').filter((n) => !n.endsWith('index.json')), ...list('snapshots'), ...list('tmp')];
}

async function pullError(ref: string): Promise<string> {
  const res = await api(daemon, 'POST', `/images/create?fromImage=${encodeURIComponent(ref)}`);
  if (res.status !== 200) return `${res.status} ${res.json?.message}`;
  const err = res.lines.find((l) => l.error);
  if (!err) throw new Error(`pull of ${ref} succeeded: ${res.body}`);
  expect(err.errorDetail.message).toBe(err.error);
  return err.error as string;
}

async function pushLayers(repo: string, entries: Parameters<typeof makeLayer>[0]): Promise<void> {
  const img = imageFromLayers([await makeLayer(entries)]);
  await pushImage(registry.url, repo, 'latest', img);
}

beforeAll(async () => {
  registry = await startRegistry();
  good = await buildImage();
  await pushImage(registry.url, 'ok/busybox', 'latest', good);
  await pushLayers('evil/dotdot', [{ name: 'etc/' }, { name: '../escaped', content: 'x' }]);
  await pushLayers('evil/absolute', [{ name: '/etc/escaped', content: 'x' }]);
  await pushLayers('evil/symlink', [{ name: 'evil', linkname: '/etc' }, { name: 'evil/escaped', content: 'x' }]);
  await pushLayers('evil/hardlink', [{ name: 'etc/' }, { name: 'etc/pw', type: 'link', linkname: '../../../etc/passwd' }]);
  // A manifest that says a layer is smaller than it is.
  const layer = good.layers[0];
  await pushImage(registry.url, 'evil/sizes', 'latest', imageFromLayers([layer], {}, { sizes: [layer.blob.length - 100] }));
  // A config whose diff id doesn't match the layer's content.
  await pushImage(registry.url, 'evil/diffid', 'latest', imageFromLayers([layer], {}, { diffIds: [sha256('not this')] }));
  proxy = await startProxy(registry.url, (req) => {
    if (req.url === '/v2/evil/schema1/manifests/latest') {
      return async (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/vnd.docker.distribution.manifest.v1+prettyjws' });
        res.end(JSON.stringify({ schemaVersion: 1, name: 'evil/schema1', tag: 'latest', fsLayers: [], history: [] }));
      };
    }
    if (flaky > 0 && req.url?.includes('/manifests/')) {
      flaky--;
      return async (_req, res) => {
        res.writeHead(503, { 'Content-Type': 'application/json' });
        res.end('{"errors":[{"code":"UNAVAILABLE","message":"try again"}]}');
      };
    }
    const m = /\/blobs\/(sha256:[a-f0-9]{64})$/.exec(req.url ?? '');
    const how = m && req.method === 'GET' ? tamper.get(m[1]) : undefined;
    if (!how) return undefined;
    return async (_req, res, upstream) => {
      const body = Buffer.from(await (await upstream()).arrayBuffer());
      const out = how === 'swap' ? Buffer.concat([body.subarray(0, body.length - 1), Buffer.from([body[body.length - 1] ^ 0xff])]) : body.subarray(0, body.length >> 1);
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': out.length });
      res.end(out);
    };
  });
  daemon = await startDaemon();
});

afterAll(async () => {
  await daemon?.stop();
  await proxy?.stop();
  await registry?.stop();
});

afterEach(() => {
  // Whatever was refused left nothing behind.
  expect(storeEntries()).toEqual([]);
});

test('a layer entry with ../ is refused, naming it', async () => {
  expect(await pullError(`${registry.host}/evil/dotdot`)).toMatch(/entry "\.\.\/escaped" would land outside the layer directory/);
});

test('an absolute layer entry is refused, naming it', async () => {
  expect(await pullError(`${registry.host}/evil/absolute`)).toMatch(/entry "\/etc\/escaped" is an absolute path: refused/);
});

test('a layer entry through a symlink is refused, naming it', async () => {
  expect(await pullError(`${registry.host}/evil/symlink`)).toMatch(/entry "evil\/escaped" goes through the symlink "evil"/);
});

test('a hardlink out of the layer is refused', async () => {
  expect(await pullError(`${registry.host}/evil/hardlink`)).toMatch(/entry "\.\.\/\.\.\/\.\.\/etc\/passwd" would land outside/);
});

test('a blob whose digest does not match is refused', async () => {
  tamper.set(good.layers[0].digest, 'swap');
  try {
    expect(await pullError(`${proxy.host}/ok/busybox`)).toMatch(new RegExp(`layer ${good.layers[0].digest}.*digest mismatch`));
  } finally {
    tamper.clear();
  }
});

test('a truncated blob is refused', async () => {
  tamper.set(good.layers[0].digest, 'truncate');
  try {
    expect(await pullError(`${proxy.host}/ok/busybox`)).toMatch(/size \d+ does not match the \d+ bytes announced/);
  } finally {
    tamper.clear();
  }
});

test('a manifest that lies about sizes is refused', async () => {
  expect(await pullError(`${registry.host}/evil/sizes`)).toMatch(/more data than the \d+ bytes announced|does not match/);
});

test('a config whose diff id does not match the layer is refused', async () => {
  expect(await pullError(`${registry.host}/evil/diffid`)).toMatch(/does not match the image config's diff id/);
});

test('a schema 1 manifest is refused with a clear error', async () => {
  expect(await pullError(`${proxy.host}/evil/schema1`)).toMatch(/uses image manifest schema 1, which is not supported/);
});

test('a malformed reference is a 400 with a clear message', async () => {
  const res = await api(daemon, 'POST', `/images/create?fromImage=${encodeURIComponent('Not/Valid:::tag')}`);
  expect(res.status).toBe(400);
  expect(res.json.message).toMatch(/invalid reference format/);
});

test('after all that, a good pull works, through transient registry failures', async () => {
  flaky = 2;
  const res = await api(daemon, 'POST', `/images/create?fromImage=${encodeURIComponent(`${proxy.host}/ok/busybox`)}`);
  expect(res.lines.find((l) => l.error)).toBeUndefined();
  expect(flaky).toBe(0);
  const img = await api(daemon, 'GET', `/images/${proxy.host}/ok/busybox/json`);
  expect(img.json.Id).toBe(good.configDigest);
  const del = await api(daemon, 'DELETE', `/images/${proxy.host}/ok/busybox`);
  expect(del.status).toBe(200);
});

