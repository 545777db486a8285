/**
 * berthd's memory over run/rm cycles (bounded; bench/load.sh runs 10 000): after 300
 * cycles, the heap still referenced (collected first) and the RSS are within a bound of
 * what they were after the first 100. A leak of a few KB per cycle crosses it.
 */
import { api, startDaemon, type Daemon } from '../fixtures/daemon.js';
import { buildImage, dockerArchive } from '../fixtures/images.js';
import { cycles, memory } from '../fixtures/cycles.js';

let d: Daemon;
const IMAGE = 'mem/busybox:latest';

beforeAll(async () => {
  d = await startDaemon({ env: { NODE_OPTIONS: '--expose-gc', BERTHD_DEBUG_MEMORY: '1' } });
  const load = await api(d, 'POST', '/images/load?quiet=1', await dockerArchive([{ image: await buildImage(), repoTags: [IMAGE] }]));
  expect(load.status).toBe(200);
}, 60_000);
afterAll(async () => { await d?.stop(); });

test('300 run/rm cycles: the heap grows less than 3 MB and the RSS less than 40 MB after the first 100', async () => {
  const samples = await cycles(d, IMAGE, 300, 100);
  const [, first, , last] = samples;
  expect(first.cycles).toBe(100);
  expect(last.cycles).toBe(300);
  expect(last.heapUsedMb - first.heapUsedMb).toBeLessThan(3);
  expect(last.rssMb - first.rssMb).toBeLessThan(40);
  expect((await api(d, 'GET', '/containers/json?all=1')).json).toEqual([]);
}, 600_000);

test('the memory endpoint is off unless asked for', async () => {
  const plain = await startDaemon();
  try {
    expect((await api(plain, 'GET', '/_berth/memory')).status).toBe(404);
    await expect(memory(plain)).rejects.toThrow(/BERTHD_DEBUG_MEMORY=1/);
  } finally {
    await plain.stop();
  }
}, 60_000);
