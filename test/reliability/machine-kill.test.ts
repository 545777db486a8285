/**
 * kill -9 of `berth machine create`, `rm` and `regenerate-certs` on a generic host
 * (network-namespace SSH host): at each listr2 step of create and each step of rm and
 * regenerate-certs (BERTH_MACHINE_CRASH_AT), and at seeded random moments (the seed is
 * printed; BERTH_FAULT_SEED replays it). After each kill the documented repair runs and
 * the store and the host must have converged (machine-kill.ts: checkConverged).
 */
import { jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSshHosts } from '../fixtures/sshhosts.js';
import { berth, requireDockerCli } from '../e2e/machine/helpers.js';
import { prng } from './faults.js';
import { args, checkConverged, listed, repair, runKilled, type MachineRig, type Verb } from './machine-kill.js';

jest.setTimeout(300_000);

const seedEnv = process.env.BERTH_FAULT_SEED;
if (seedEnv !== undefined && !/^\d+$/.test(seedEnv)) throw new Error(`BERTH_FAULT_SEED=${seedEnv} is not a whole number`);
const seed = seedEnv ? Number(seedEnv) : Math.floor(Math.random() * 2 ** 31);
process.stderr.write(`machine kill seed ${seed}: replay with BERTH_FAULT_SEED=${seed}\n`);

// bench/reliability.sh raises these; CI runs a few of each.
const KILLS = Number(process.env.BERTH_MACHINE_KILLS ?? 3);
const ALL_STEPS = process.env.BERTH_MACHINE_ALL_STEPS === '1';

let rig: MachineRig;
const dirs: string[] = [];
const temp = (p: string) => { const d = mkdtempSync(join(tmpdir(), p)); dirs.push(d); return d; };
const NAME = 'k';

beforeAll(async () => {
  requireDockerCli();
  const f = await startSshHosts(1);
  const store = temp('berth-mkill-store-');
  const arms = temp('berth-mkill-arms-');
  rig = {
    f, host: f.hosts[0], store, arms,
    env: {
      BERTH_STORAGE_PATH: store, BERTH_MACHINE_CRASH_AT: arms, BERTH_SSH_TIMEOUT: '10', DOCKER_CONFIG: temp('berth-mkill-docker-'),
      DOCKER_HOST: '', DOCKER_TLS_VERIFY: '', DOCKER_CERT_PATH: '', DOCKER_MACHINE_NAME: '',
    },
  };
});
afterAll(() => {
  rig?.f.cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const ok = (r: { code: number; stderr: string } | undefined) => expect(r && { code: r.code, stderr: r.stderr }).toEqual(r && { code: 0, stderr: '' });

/** The precondition of a verb: create needs the machine gone, the others need it there. */
function prepare(verb: Verb): void {
  if (verb === 'create' && listed(rig, NAME)) ok(berth(args(rig, 'rm', NAME), rig.env));
  if (verb !== 'create' && !listed(rig, NAME)) ok(berth(args(rig, 'create', NAME), rig.env));
}

/** Kill, repair, check; returns what the kill hit for the log. */
async function killAndConverge(verb: Verb, at: { step?: string; afterMs?: number }, repairWith: Verb = verb): Promise<string> {
  prepare(verb);
  const r = await runKilled(rig, args(rig, verb, NAME), at);
  ok(repair(rig, repairWith, NAME));
  expect(checkConverged(rig, NAME, verb !== 'rm')).toEqual([]);
  return `${verb} ${at.step ?? `after ${at.afterMs} ms`}: ${r.killed ? 'killed' : `finished (${r.code})`}`;
}

const CREATE_STEPS_ALL = ['Reserving the name and keys', 'Creating the host', 'Waiting for the host', 'Detecting the OS', 'Installing the engine bundle',
  'Configuring TLS and starting the engine', 'Waiting for the engine', 'Saving'];
const CREATE_STEPS = ALL_STEPS
  ? CREATE_STEPS_ALL
  // CI: before anything exists, mid-install, with the engine half-configured, all done but the marker.
  : ['Reserving the name and keys', 'Installing the engine bundle', 'Configuring TLS and starting the engine', 'Saving'];

test('create killed at each step: the same create again finishes a working machine', async () => {
  const log: string[] = [];
  for (const step of CREATE_STEPS) {
    log.push(await killAndConverge('create', { step: `create:${step}` }));
  }
  // Each kill landed where it was armed.
  expect(log.filter((l) => l.endsWith('killed'))).toHaveLength(CREATE_STEPS.length);
  // A resumed create killed again (at its first step) still converges.
  prepare('create');
  await runKilled(rig, args(rig, 'create', NAME), { step: 'create:Configuring TLS and starting the engine' });
  expect((await runKilled(rig, args(rig, 'create', NAME), { step: 'create:Checking the keys' })).killed).toBe(true);
  ok(repair(rig, 'create', NAME));
  expect(checkConverged(rig, NAME, true)).toEqual([]);
});

test('create killed while it uploads the engine bundle: the host keeps no half-unpacked bundle', async () => {
  prepare('create');
  // A host with an older bundle (or none) gets the upload.
  rmSync(join(rig.host.dir, 'opt-upper', 'berth', 'BUNDLE_ID'), { force: true });
  const r = await runKilled(rig, args(rig, 'create', NAME), { inStep: 'Installing the engine bundle', afterMs: 300 });
  expect(r.killed).toBe(true);
  ok(repair(rig, 'create', NAME));
  expect(checkConverged(rig, NAME, true)).toEqual([]);
});

test('rm killed before the store entry goes, or while it is deleted: rm again / ls leave nothing of it', async () => {
  expect(await killAndConverge('rm', { step: 'rm:driver' })).toMatch(/killed$/);
  // Killed while the directory (its keys among the files) is deleted: the machine is gone, and so are its files.
  expect(await killAndConverge('rm', { step: 'rm:store' })).toMatch(/killed$/);
  // The host kept its engine (generic: rm leaves the host alone): a new create takes it over.
  ok(berth(args(rig, 'create', NAME), rig.env));
  expect(checkConverged(rig, NAME, true)).toEqual([]);
});

test('regenerate-certs killed at each step: the same command again leaves a working machine', async () => {
  const log: string[] = [];
  log.push(await killAndConverge('regenerate-certs', { step: 'certs:server' }));
  log.push(await killAndConverge('regenerate-certs', { step: 'certs:configured' }));
  if (ALL_STEPS) log.push(await killAndConverge('regenerate-certs --client-certs', { step: 'certs:ca' }));
  // A new CA key beside the old CA certificate: a plain regenerate-certs (what `env` hints) also repairs it.
  log.push(await killAndConverge('regenerate-certs --client-certs', { step: 'certs:ca' }, 'regenerate-certs'));
  log.push(await killAndConverge('regenerate-certs --client-certs', { step: 'certs:client' }, 'regenerate-certs'));
  if (ALL_STEPS) log.push(await killAndConverge('regenerate-certs --client-certs', { step: 'certs:configured' }));
  expect(log.filter((l) => l.endsWith('killed'))).toHaveLength(ALL_STEPS ? 6 : 4);
});

test(`kills at seeded random moments converge (seed ${seed})`, async () => {
  const rand = prng(seed);
  const log: string[] = [];
  // How long each verb takes here when not killed: kills land anywhere in it.
  const took: Record<string, number> = { create: 8000, rm: 1500, 'regenerate-certs': 5000, 'regenerate-certs --client-certs': 5000 };
  for (let i = 0; i < KILLS; i++) {
    const verb = (['create', 'rm', 'regenerate-certs', 'regenerate-certs --client-certs'] as const)[Math.floor(rand() * 4)];
    let afterMs = Math.floor(rand() * took[verb]);
    // Half of the creates are killed inside a step (mid-upload, mid-configuration), some with a bundle to upload.
    const inStep = verb === 'create' && rand() < 0.5 ? CREATE_STEPS_ALL[2 + Math.floor(rand() * 5)] : undefined;
    if (inStep) afterMs = Math.floor(rand() * 1000);
    prepare(verb);
    if (inStep && rand() < 0.5) rmSync(join(rig.host.dir, 'opt-upper', 'berth', 'BUNDLE_ID'), { force: true });
    const t0 = Date.now();
    const r = await runKilled(rig, args(rig, verb, NAME), { afterMs, inStep });
    if (!r.killed) took[verb] = Date.now() - t0;
    ok(repair(rig, verb, NAME));
    expect({ i, verb, afterMs, inStep, bad: checkConverged(rig, NAME, verb !== 'rm') }).toEqual({ i, verb, afterMs, inStep, bad: [] });
    log.push(`${verb} ${inStep ? `${afterMs} ms into "${inStep}"` : `after ${afterMs} ms`}: ${r.killed ? 'killed' : `finished (${r.code})`}`);
  }
  process.stderr.write(`seed ${seed}: ${log.length} kills converged: ${log.join('; ')}\n`);
}, 60_000 + KILLS * 60_000);
