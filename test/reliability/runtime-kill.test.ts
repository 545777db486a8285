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
import { prng } from './faults.js';
import { checkInvariants, monitors, type Seen } from './invariants.js';

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
async function killedDuringStart(step: string): Promise<void> {
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
}

// An attached client (docker run without -d) makes the engine create, attach, then START.
async function killedAfterExec(): Promise<void> {
  const name = `rtkill-attached-${seen.containers.size}`;
  const fired = arm('monitor:started');
  const out = await docker('run', '--name', name, IMAGE, 'sh', '-c', 'sleep 0.5; echo attached-out').catch((err: Error & { stderr?: string }) => `failed: ${err.stderr ?? err.message}`);
  expect(fired()).toBe(true);
  expect(out).toMatch(/^failed: /);
  const id = (await api(d, 'GET', `/containers/${name}/json`)).json.Id as string;
  seen.containers.add(id);
  expect(await inspect(id)).toMatchObject({ Running: false, Pid: 0 });
  expect(cgroupProcs(id)).toBe('');
  await removeAndCheck(id);
}

async function killedAtExit(): Promise<void> {
  const id = await create(['sh', '-c', 'sleep 0.3; exit 3']);
  const fired = arm('monitor:exited');
  expect((await api(d, 'POST', `/containers/${id}/start`)).status).toBe(204);
  const wait = await api(d, 'POST', `/containers/${id}/wait`);
  expect(fired()).toBe(true);
  expect(wait.status).toBe(200);
  // Its parent (the monitor) died with the exit code: the engine says so, as dockerd does after losing a shim.
  expect(await inspect(id)).toMatchObject({ Status: 'exited', Running: false, Pid: 0, ExitCode: 255 });
  await removeAndCheck(id);
}

async function deleteKilledAfterKilling(): Promise<void> {
  const id = await create(['sleep', '1000']);
  // The failed start makes the engine delete a running container: that delete is killed in turn.
  const fired = [arm('create:ready'), arm('delete:killed')];
  expect((await api(d, 'POST', `/containers/${id}/start`)).status).toBe(500);
  expect(fired.map((f) => f())).toEqual([true, true]);
  expect(await inspect(id)).toMatchObject({ Status: 'exited', Running: false, Pid: 0 });
  expect(cgroupProcs(id)).toBe('');
  await removeAndCheck(id);
}

async function deleteKilledInTeardown(): Promise<void> {
  const id = await create(['sleep', '1000']);
  expect((await api(d, 'POST', `/containers/${id}/start`)).status).toBe(204);
  const pid = (await inspect(id)).Pid;
  const fired = arm('teardown:cgroup');
  expect((await api(d, 'DELETE', `/containers/${id}?force=1`)).status).toBe(204);
  expect(fired()).toBe(true);
  expect(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z')).toBe(false);
  expect(await checkInvariants(d, seen)).toEqual([]);
  expect(await docker('run', '--rm', IMAGE, 'echo', 'still-serving')).toBe('still-serving');
}

/** A running container's monitor killed from outside after a random delay (it may be mid-exit). */
async function monitorKilledAt(afterMs: number): Promise<void> {
  const id = await create(['sh', '-c', 'sleep 0.2; exit 4']);
  expect((await api(d, 'POST', `/containers/${id}/start`)).status).toBe(204);
  await new Promise((r) => setTimeout(r, afterMs));
  const mon = monitors(d).get(id);
  if (mon) process.kill(mon, 'SIGKILL');
  const wait = await api(d, 'POST', `/containers/${id}/wait`);
  expect(wait.status).toBe(200);
  const st = await inspect(id);
  expect(st).toMatchObject({ Status: 'exited', Running: false, Pid: 0 });
  // The exit code is the container's unless the monitor died holding it.
  expect([4, 255]).toContain(st.ExitCode);
  await removeAndCheck(id);
}

const SCENARIOS: Record<string, () => Promise<void>> = {
  'create:dir': () => killedDuringStart('create:dir'),
  'create:config': () => killedDuringStart('create:config'),
  'monitor:spawned': () => killedDuringStart('monitor:spawned'),
  'monitor:state': () => killedDuringStart('monitor:state'),
  'create:ready': () => killedDuringStart('create:ready'),
  'monitor:started': killedAfterExec,
  'monitor:exited': killedAtExit,
  'delete:killed': deleteKilledAfterKilling,
  'teardown:cgroup': deleteKilledInTeardown,
};

test.each(Object.keys(SCENARIOS))('the runtime or the monitor killed at %s: true state, rm cleans up, the engine serves', (step) => SCENARIOS[step](), 60_000);

// A seeded mix of the same (bench/reliability.sh runs many): the steps in any order, and
// monitors killed from outside at random moments of a short container's life.
const seedEnv = process.env.BERTH_FAULT_SEED;
if (seedEnv !== undefined && !/^\d+$/.test(seedEnv)) throw new Error(`BERTH_FAULT_SEED=${seedEnv} is not a whole number`);
const seed = seedEnv ? Number(seedEnv) : Math.floor(Math.random() * 2 ** 31);
const KILLS = Number(process.env.BERTH_RUNTIME_KILLS ?? 8);
process.stderr.write(`runtime kill seed ${seed}: replay with BERTH_FAULT_SEED=${seed}\n`);

test(`${KILLS} kills at seeded random steps and moments (seed ${seed})`, async () => {
  const rand = prng(seed);
  const steps = Object.keys(SCENARIOS);
  const done: string[] = [];
  for (let i = 0; i < KILLS; i++) {
    const pick = Math.floor(rand() * (steps.length + 1));
    const what = pick < steps.length ? steps[pick] : `monitor after ${Math.floor(rand() * 400)} ms`;
    try {
      await (pick < steps.length ? SCENARIOS[what]() : monitorKilledAt(Number(what.split(' ')[2])));
    } catch (err) {
      throw new Error(`seed ${seed}, kill ${i} (${what}): ${(err as Error).message}`);
    }
    done.push(what);
  }
  process.stderr.write(`seed ${seed}: ${done.length} kills survived: ${done.join(', ')}\n`);
}, 30_000 + KILLS * 15_000);
