/**
 * kill -9 of `berth machine rm` and `regenerate-certs` at each of their steps
 * (BERTH_MACHINE_CRASH_AT), and of create, rm and regenerate-certs at seeded random
 * moments (the seed is printed; BERTH_FAULT_SEED replays it), on a generic host. After
 * each kill the documented repair runs and the store and the host must have converged.
 */
import { jest } from '@jest/globals';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { berth } from '../e2e/machine/helpers.js';
import { prng } from './faults.js';
import { args, checkConverged, CREATE_STEPS, faultSeed, killAndConverge, NAME, ok, prepare, repair, runKilled, startRig, type MachineRig } from './machine-kill.js';

jest.setTimeout(300_000);

// bench/reliability.sh raises these; CI runs a few of each.
const KILLS = Number(process.env.BERTH_MACHINE_KILLS ?? 3);
const ALL_STEPS = process.env.BERTH_MACHINE_ALL_STEPS === '1';

let rig: MachineRig & { stop(): void };
beforeAll(async () => { rig = await startRig(); });
afterAll(() => rig?.stop());
const seed = faultSeed('machine kill');

test('rm killed before the store entry goes, or while it is deleted: rm again / ls leave nothing of it', async () => {
  expect(await killAndConverge(rig, 'rm', { step: 'rm:driver' })).toMatch(/killed$/);
  // Killed while the directory (its keys among the files) is deleted: the machine is gone, and so are its files.
  expect(await killAndConverge(rig, 'rm', { step: 'rm:store' })).toMatch(/killed$/);
  // The host kept its engine (generic: rm leaves the host alone): a new create takes it over.
  ok(berth(args(rig, 'create', NAME), rig.env));
  expect(checkConverged(rig, NAME, true)).toEqual([]);
});

test('regenerate-certs killed at each step: the same command again leaves a working machine', async () => {
  const log: string[] = [];
  log.push(await killAndConverge(rig, 'regenerate-certs', { step: 'certs:server' }));
  log.push(await killAndConverge(rig, 'regenerate-certs', { step: 'certs:configured' }));
  if (ALL_STEPS) log.push(await killAndConverge(rig, 'regenerate-certs --client-certs', { step: 'certs:ca' }));
  // A new CA key beside the old CA certificate: a plain regenerate-certs (what `env` hints) also repairs it.
  log.push(await killAndConverge(rig, 'regenerate-certs --client-certs', { step: 'certs:ca' }, 'regenerate-certs'));
  log.push(await killAndConverge(rig, 'regenerate-certs --client-certs', { step: 'certs:client' }, 'regenerate-certs'));
  if (ALL_STEPS) log.push(await killAndConverge(rig, 'regenerate-certs --client-certs', { step: 'certs:configured' }));
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
    const inStep = verb === 'create' && rand() < 0.5 ? CREATE_STEPS[2 + Math.floor(rand() * 5)] : undefined;
    if (inStep) afterMs = Math.floor(rand() * 1000);
    prepare(rig, verb);
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
