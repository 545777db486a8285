/**
 * kill -9 of berth-runtime and of a container's monitor at each step of create,
 * start, exit and delete (the runtime's test-only crash points, armed through
 * BERTH_RUNTIME_CRASH_AT; see native/lib/crashpoint.c): the engine reports the
 * container's true state, rm cleans up everything (checkInvariants), and the engine
 * keeps serving.
 */
import { mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, startDaemon, type Daemon } from '../fixtures/daemon.js';
import { dockerCli, requireDockerCli } from '../fixtures/docker-cli.js';
import { buildImage, dockerArchive } from '../fixtures/images.js';
import { checkInvariants, type Seen } from './invariants.js';

const IMAGE = 'rtkill/busybox:latest';
const arms = mkdtempSync(join(tmpdir(), 'berth-crash-'));
let d: Daemon;
const seen: Seen = { logs: new Map(), containers: new Set() };
const { docker } = dockerCli(() => d.env);

beforeAll(async () => {
  requireDockerCli();
  d = await startDaemon({ env: { BERTH_RUNTIME_CRASH_AT: arms } });
  await api(d, 'POST', '/images/load?quiet=1', await dockerArchive([{ image: await buildImage(), repoTags: [IMAGE] }]));
}, 60_000);
afterAll(async () => {
  await d?.stop();
  rmSync(arms, { recursive: true, force: true });
});

/** The next runtime process that reaches `step` kills itself there (once). */
function arm(step: string): () => boolean {
  writeFileSync(join(arms, step), '');
  return () => !existsSync(join(arms, step));
}

async function create(cmd: string[]): Promise<string> {
  const c = await api(d, 'POST', '/containers/create', { Image: IMAGE, Cmd: cmd });
  expect(c.status).toBe(201);
  seen.containers.add(c.json.Id);
  return c.json.Id;
}

const inspect = async (id: string) => (await api(d, 'GET', `/containers/${id}/json`)).json.State as { Status: string; Running: boolean; Pid: number; ExitCode: number };

/** Processes in the container's cgroup (none when the cgroup is gone). */
function cgroupProcs(id: string): string {
  for (const base of existsSync('/sys/fs/cgroup/memory') ? ['/sys/fs/cgroup/pids'] : ['/sys/fs/cgroup']) {
    const f = join(base, 'berth', id, 'cgroup.procs');
    if (existsSync(f)) return readFileSync(f, 'utf8').trim();
  }
  return '';
}

async function removeAndCheck(id: string): Promise<void> {
  expect(await checkInvariants(d, seen)).toEqual([]);
  expect((await api(d, 'DELETE', `/containers/${id}?force=1`)).status).toBe(204);
  expect(await checkInvariants(d, seen)).toEqual([]);
  // The engine keeps serving: a new container runs and exits as it should.
  expect(await docker('run', '--rm', IMAGE, 'echo', 'still-serving')).toBe('still-serving');
}

// `docker start` with nobody attached: one `berth-runtime run --detach`.
test.each(['create:dir', 'create:config', 'monitor:spawned', 'monitor:state', 'create:ready'])(
  'killed at %s during start: the start fails, nothing runs, rm cleans up',
  async (step) => {
    const id = await create(['sleep', '1000']);
    const fired = arm(step);
    const start = await api(d, 'POST', `/containers/${id}/start`);
    expect(fired()).toBe(true);
    expect(start.status).toBe(500);
    expect(start.body.toString()).not.toMatch(/\n\s+at /);
    expect(await inspect(id)).toMatchObject({ Status: 'exited', Running: false, Pid: 0 });
    expect(cgroupProcs(id)).toBe('');
    // Not a stuck container: a second start works.
    expect((await api(d, 'POST', `/containers/${id}/start`)).status).toBe(204);
    expect(await inspect(id)).toMatchObject({ Status: 'running', Running: true });
    await removeAndCheck(id);
  }, 60_000);

test('the monitor killed between the exec of an attached container and its state write: the run fails cleanly', async () => {
  // An attached client (docker run without -d) makes the engine create, attach, then START.
  const fired = arm('monitor:started');
  const out = await docker('run', '--name', 'rtkill-attached', IMAGE, 'sh', '-c', 'sleep 0.5; echo attached-out').catch((err: Error & { stderr?: string }) => `failed: ${err.stderr ?? err.message}`);
  expect(fired()).toBe(true);
  expect(out).toMatch(/^failed: /);
  const id = (await api(d, 'GET', '/containers/rtkill-attached/json')).json.Id as string;
  seen.containers.add(id);
  expect(await inspect(id)).toMatchObject({ Running: false, Pid: 0 });
  expect(cgroupProcs(id)).toBe('');
  await removeAndCheck(id);
}, 60_000);

test('the monitor killed after the container exits, before it records the exit: reported exited', async () => {
  const id = await create(['sh', '-c', 'sleep 0.3; exit 3']);
  const fired = arm('monitor:exited');
  expect((await api(d, 'POST', `/containers/${id}/start`)).status).toBe(204);
  const wait = await api(d, 'POST', `/containers/${id}/wait`);
  expect(fired()).toBe(true);
  expect(wait.status).toBe(200);
  // Its parent (the monitor) died with the exit code: the engine says so, as dockerd does after losing a shim.
  expect(await inspect(id)).toMatchObject({ Status: 'exited', Running: false, Pid: 0, ExitCode: 255 });
  await removeAndCheck(id);
}, 60_000);

test('berth-runtime delete killed after it killed the processes (cleaning up a failed start): nothing is left', async () => {
  const id = await create(['sleep', '1000']);
  // The failed start makes the engine delete a running container: that delete is killed in turn.
  const fired = [arm('create:ready'), arm('delete:killed')];
  expect((await api(d, 'POST', `/containers/${id}/start`)).status).toBe(500);
  expect(fired.map((f) => f())).toEqual([true, true]);
  expect(await inspect(id)).toMatchObject({ Status: 'exited', Running: false, Pid: 0 });
  expect(cgroupProcs(id)).toBe('');
  await removeAndCheck(id);
}, 60_000);

test('berth-runtime delete killed between the cgroup and the state directory during rm: nothing is left', async () => {
  const id = await create(['sleep', '1000']);
  expect((await api(d, 'POST', `/containers/${id}/start`)).status).toBe(204);
  const pid = (await inspect(id)).Pid;
  const fired = arm('teardown:cgroup');
  expect((await api(d, 'DELETE', `/containers/${id}?force=1`)).status).toBe(204);
  expect(fired()).toBe(true);
  expect(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z')).toBe(false);
  expect(await checkInvariants(d, seen)).toEqual([]);
  expect(await docker('run', '--rm', IMAGE, 'echo', 'still-serving')).toBe('still-serving');
}, 60_000);
