/**
 * A full disk under the data root (a 48 MB tmpfs): a load, a commit and a container's
 * log writing that run out of space end in a clear error, leave no half-written
 * record, temp file or orphan blob behind, and berthd keeps serving; once space is
 * freed the same operations work.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, ping, startDaemon, type Daemon } from '../fixtures/daemon.js';
import { buildImage, dockerArchive, imageFromLayers, makeLayer } from '../fixtures/images.js';
import { checkInvariants } from '../reliability/invariants.js';

const IMAGE = 'full/busybox:latest';
let mnt: string;
let d: Daemon;
const seen = { logs: new Map<string, string>(), containers: new Set<string>() };

beforeAll(async () => {
  mnt = mkdtempSync(join(tmpdir(), 'berth-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', mnt]);
  d = await startDaemon({ dataRoot: join(mnt, 'data') });
  expect((await api(d, 'POST', '/images/load?quiet=1', await dockerArchive([{ image: await buildImage(), repoTags: [IMAGE] }]))).status).toBe(200);
}, 60_000);

afterAll(async () => {
  for (const id of seen.containers) await api(d, 'DELETE', `/containers/${id}?force=1`).catch(() => undefined);
  await d?.stop();
  if (mnt) {
    execFileSync('umount', ['-l', mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
});

const freeKb = () => Number(execFileSync('df', ['--output=avail', '-k', mnt], { encoding: 'utf8' }).split('\n')[1]);
const message = (r: { status: number; json?: { message?: string }; lines: Array<{ error?: string }> }) => r.json?.message ?? r.lines.find((l) => l.error)?.error ?? '';

async function healthy(): Promise<void> {
  expect(await ping(d.socket)).toBe(true);
  expect(await checkInvariants(d, seen)).toEqual([]);
}

test('loading an image larger than the free space: a clear error, nothing half-stored', async () => {
  // Random bytes do not compress: the layer needs its full size twice (blob + unpacked).
  const big = await makeLayer([{ name: 'big', content: randomBytes(40 << 20) }], 'docker', 'none');
  const before = freeKb();
  const r = await api(d, 'POST', '/images/load?quiet=1', await dockerArchive([{ image: imageFromLayers([big]), repoTags: ['full/big:latest'] }]));
  expect(message(r)).toMatch(/no space left on device/i);
  expect((await api(d, 'GET', '/images/full%2Fbig:latest/json')).status).toBe(404);
  // The space is back: no blob kept, no deleted spool file held open by berthd (both were bugs).
  expect(freeKb()).toBeGreaterThan(before - 1024);
  await healthy();
}, 120_000);

test('a commit that runs out of space fails clearly; the container keeps running; after freeing space it works', async () => {
  const c = await api(d, 'POST', '/containers/create', { Image: IMAGE, Cmd: ['sh', '-c', 'head -c 20000000 /dev/urandom > /fill && echo filled; sleep 1000'] });
  seen.containers.add(c.json.Id);
  expect((await api(d, 'POST', `/containers/${c.json.Id}/start`)).status).toBe(204);
  for (let i = 0; i < 100 && !(await api(d, 'GET', `/containers/${c.json.Id}/logs?stdout=1`)).body.includes('filled'); i++) await new Promise((r) => setTimeout(r, 100));
  const commit = await api(d, 'POST', `/commit?container=${c.json.Id}&repo=full/commit&tag=one`);
  expect(commit.status).toBeGreaterThanOrEqual(400);
  expect(message(commit)).toMatch(/no space left on device/i);
  expect((await api(d, 'GET', `/containers/${c.json.Id}/json`)).json.State.Status).toBe('running');
  await healthy();
  const ex = await api(d, 'POST', `/containers/${c.json.Id}/exec`, { Cmd: ['rm', '/fill'] });
  await api(d, 'POST', `/exec/${ex.json.Id}/start`, { Detach: false });
  const again = await api(d, 'POST', `/commit?container=${c.json.Id}&repo=full/commit&tag=two`);
  expect(again.status).toBe(201);
  await api(d, 'DELETE', '/images/full%2Fcommit:two');
  await api(d, 'DELETE', `/containers/${c.json.Id}?force=1`);
}, 120_000);

test('a container that logs until the disk is full: berthd keeps serving, the logs written are readable', async () => {
  const c = await api(d, 'POST', '/containers/create', { Image: IMAGE, Cmd: ['sh', '-c', 'echo first-line; i=0; while [ $i -lt 2000000 ]; do echo "log line $i padding padding padding padding padding"; i=$((i+1)); done; echo done'] });
  seen.containers.add(c.json.Id);
  expect((await api(d, 'POST', `/containers/${c.json.Id}/start`)).status).toBe(204);
  // Until the disk is full (or the loop is done).
  for (let i = 0; i < 300; i++) {
    if (freeKb() < 64) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(await ping(d.socket)).toBe(true);
  expect((await api(d, 'GET', '/containers/json?all=1')).status).toBe(200);
  const head = await api(d, 'GET', `/containers/${c.json.Id}/logs?stdout=1&tail=all`);
  expect(head.status).toBe(200);
  // A log of more lines than a call's arguments can spread came back empty (a RangeError swallowed).
  expect(head.body.toString('latin1')).toContain('first-line');
  await api(d, 'DELETE', `/containers/${c.json.Id}?force=1`);
  seen.containers.delete(c.json.Id);
  await healthy();
  // Space is back: a new container runs and logs.
  const n = await api(d, 'POST', '/containers/create', { Image: IMAGE, Cmd: ['echo', 'after'] });
  seen.containers.add(n.json.Id);
  expect((await api(d, 'POST', `/containers/${n.json.Id}/start`)).status).toBe(204);
}, 120_000);
