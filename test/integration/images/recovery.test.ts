/**
 * kill -9 of berthd in the middle of a pull: the next start cleans the store
 * (partial downloads, unreferenced blobs and layers, the stale lock), and the
 * pull then succeeds.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { api, startDaemon, type Daemon } from '../../fixtures/daemon.js';
import { buildImage, busyboxEntries, pushImage, type Image } from '../../fixtures/images.js';
import { startProxy, startRegistry, type Registry } from '../../fixtures/registry.js';

let registry: Registry;
let proxy: Awaited<ReturnType<typeof startProxy>>;
let image: Image;
let stall = true;
let release: () => void = () => undefined;
const daemons: Daemon[] = [];

beforeAll(async () => {
  registry = await startRegistry();
  // A small busybox layer, and a big incompressible one that the proxy stalls half-way.
  image = await buildImage({ layers: [busyboxEntries(), [{ name: 'data/' }, { name: 'data/blob', content: randomBytes(4 << 20) }]] });
  await pushImage(registry.url, 'big/image', 'latest', image);
  const big = image.layers[1].digest;
  proxy = await startProxy(registry.url, (req) => {
    if (!stall || req.method !== 'GET' || !req.url?.endsWith(`/blobs/${big}`)) return undefined;
    return async (_req, res, upstream) => {
      const body = Buffer.from(await (await upstream()).arrayBuffer());
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
      res.write(body.subarray(0, body.length >> 1));
      await new Promise<void>((r) => (release = r));
      res.end(body.subarray(body.length >> 1));
    };
  });
});

afterAll(async () => {
  release();
  for (const d of daemons) await d.stop();
  // The first daemon's dirs were kept for the restart.
  if (daemons[0]) rmSync(dirname(daemons[0].dataRoot), { recursive: true, force: true });
  await proxy?.stop();
  await registry?.stop();
});

function files(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

test('kill -9 mid-pull, restart, store cleaned, pull succeeds', async () => {
  const first = await startDaemon({ keep: true });
  daemons.push(first);
  const ref = `${proxy.host}/big/image`;
  const pulling = api(first, 'POST', `/images/create?fromImage=${encodeURIComponent(ref)}`).catch(() => undefined);
  // Wait until the big layer is half in the ingest area.
  const ingest = join(first.dataRoot, 'content', 'ingest');
  const deadline = Date.now() + 20_000;
  while (!files(ingest).some((f) => statSync(join(ingest, f)).size > 0)) {
    if (Date.now() > deadline) throw new Error('the pull never started downloading');
    await new Promise((r) => setTimeout(r, 20));
  }
  process.kill(first.pid, 'SIGKILL');
  await new Promise((r) => first.process.once('exit', r));
  await pulling;
  expect(files(ingest).length).toBeGreaterThan(0);
  expect(existsSync(join(first.dataRoot, 'berthd.lock'))).toBe(true);

  const second = await startDaemon({ dataRoot: first.dataRoot, execRoot: first.execRoot });
  daemons.push(second);
  // Cleaned at start: no partial download, no half layer, no unreferenced blob or layer.
  expect(files(ingest)).toEqual([]);
  expect(files(join(first.dataRoot, 'content', 'sha256'))).toEqual([]);
  expect(files(join(first.dataRoot, 'layers'))).toEqual([]);
  expect((await api(second, 'GET', '/images/json')).json).toEqual([]);

  stall = false;
  release();
  const res = await api(second, 'POST', `/images/create?fromImage=${encodeURIComponent(ref)}`);
  expect(res.lines.find((l) => l.error)).toBeUndefined();
  const inspect = await api(second, 'GET', `/images/${ref}/json`);
  expect(inspect.json.Id).toBe(image.configDigest);
  expect(inspect.json.RootFS.Layers).toEqual(image.layers.map((l) => l.diffId));
});
