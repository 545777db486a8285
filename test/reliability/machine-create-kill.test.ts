/**
 * kill -9 of `berth machine create` on a generic host (network-namespace SSH host):
 * at the start of its listr2 steps (BERTH_MACHINE_CRASH_AT), inside its reservation of
 * the name, inside the bundle upload, and inside a resumed create. After each kill the same create again (the documented
 * repair) must leave a working machine and nothing else (machine-kill.ts).
 */
import { jest } from '@jest/globals';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { args, checkConverged, CREATE_STEPS, killAndConverge, NAME, ok, prepare, repair, runKilled, startRig, type MachineRig } from './machine-kill.js';

jest.setTimeout(300_000);

// bench/reliability.sh kills at every step; CI at a few.
const ALL_STEPS = process.env.BERTH_MACHINE_ALL_STEPS === '1';

let rig: MachineRig & { stop(): void };
beforeAll(async () => { rig = await startRig(); });
afterAll(() => rig?.stop());

// CI: before anything exists, before the upload, with the engine half-configured, all done but the marker.
const STEPS = ALL_STEPS ? CREATE_STEPS : ['Reserving the name and keys', 'Installing the engine bundle', 'Configuring TLS and starting the engine', 'Saving'];

test('create killed at each step: the same create again finishes a working machine', async () => {
  const log: string[] = [];
  for (const step of STEPS) {
    log.push(await killAndConverge(rig, 'create', { step: `create:${step}` }));
  }
  // Each kill landed where it was armed.
  expect(log.filter((l) => l.endsWith('killed'))).toHaveLength(STEPS.length);
  // A resumed create killed again (at its first step) still converges.
  prepare(rig, 'create');
  await runKilled(rig, args(rig, 'create', NAME), { step: 'create:Configuring TLS and starting the engine' });
  expect((await runKilled(rig, args(rig, 'create', NAME), { step: 'create:Checking the keys' })).killed).toBe(true);
  ok(repair(rig, 'create', NAME));
  expect(checkConverged(rig, NAME, true)).toEqual([]);
});

test('create killed inside its reservation (temp directory made, or renamed into place): the same create again takes the name over', async () => {
  for (const step of ['reserve:temp', 'reserve:placed']) {
    expect(await killAndConverge(rig, 'create', { step })).toBe(`create ${step}: killed`);
  }
});

test('create killed while it uploads the engine bundle: the host keeps no half-unpacked bundle', async () => {
  prepare(rig, 'create');
  // A host with an older bundle (or none) gets the upload.
  rmSync(join(rig.host.dir, 'opt-upper', 'berth', 'BUNDLE_ID'), { force: true });
  const r = await runKilled(rig, args(rig, 'create', NAME), { inStep: 'Installing the engine bundle', afterMs: 300 });
  expect(r.killed).toBe(true);
  ok(repair(rig, 'create', NAME));
  expect(checkConverged(rig, NAME, true)).toEqual([]);
});

