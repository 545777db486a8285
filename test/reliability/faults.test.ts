/**
 * CI's bounded tier of the fault campaign (test/reliability/faults.ts): kill -9 of
 * berthd at seeded random moments during every kind of operation, then a restart and
 * the invariant check. BERTH_FAULT_SEED replays a run; BERTH_FAULT_ITERATIONS and
 * BERTH_FAULT_BUDGET_S make it longer (bench/reliability.sh does, for soak runs).
 */
import { startRegistry, type Registry } from '../fixtures/registry.js';
import { runCampaign } from './faults.js';

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new Error(`${name}=${raw} is not a whole number`);
  return Number(raw);
}

const seed = intEnv('BERTH_FAULT_SEED', Math.floor(Math.random() * 2 ** 31));
const iterations = intEnv('BERTH_FAULT_ITERATIONS', 200);
const budgetS = intEnv('BERTH_FAULT_BUDGET_S', 120);
// Fewer kills than this prove little: the budget only ends the run after them.
const minIterations = Math.min(iterations, intEnv('BERTH_FAULT_MIN_ITERATIONS', 40));
process.stderr.write(`fault campaign seed ${seed}: replay with BERTH_FAULT_SEED=${seed}\n`);

let registry: Registry;
beforeAll(async () => { registry = await startRegistry(); });
afterAll(async () => { await registry?.stop(); });

test(`kill -9 of berthd at random moments loses nothing and leaks nothing (seed ${seed})`, async () => {
  const r = await runCampaign({ seed, iterations, minIterations, budgetMs: budgetS * 1000, registry: registry.host, log: (l) => process.stderr.write(`${l}\n`) });
  // The seed is in what a failure prints, so the run can be replayed.
  expect({ seed, violations: r.violations }).toEqual({ seed, violations: [] });
  expect(r.iterations).toBeGreaterThanOrEqual(minIterations);
}, (budgetS + 300) * 1000);

test('the invariant checker sees planted damage (it can fail)', async () => {
  const { api, startDaemon } = await import('../fixtures/daemon.js');
  const { buildImage, dockerArchive } = await import('../fixtures/images.js');
  const { checkInvariants } = await import('./invariants.js');
  const { mkdirSync, writeFileSync, rmdirSync, rmSync, existsSync } = await import('node:fs');
  const { join } = await import('node:path');
  const d = await startDaemon();
  const gone = 'f'.repeat(64);
  const cg = existsSync('/sys/fs/cgroup/memory') ? join('/sys/fs/cgroup/memory/berth', gone) : join('/sys/fs/cgroup/berth', gone);
  try {
    await api(d, 'POST', '/images/load?quiet=1', await dockerArchive([{ image: await buildImage(), repoTags: ['plant/busybox:latest'] }]));
    const c = await api(d, 'POST', '/containers/create', { Image: 'plant/busybox:latest', Cmd: ['sh', '-c', 'echo real; sleep 100'] });
    await api(d, 'POST', `/containers/${c.json.Id}/start`);
    const seen = { logs: new Map([[c.json.Id, 'never-written']]), containers: new Set([c.json.Id, gone]) };
    mkdirSync(cg, { recursive: true });
    mkdirSync(join(d.dataRoot, 'tmp'), { recursive: true });
    writeFileSync(join(d.dataRoot, 'tmp', 'stray'), 'x');
    mkdirSync(join(d.execRoot, 'runtime', gone), { recursive: true });
    writeFileSync(join(d.dataRoot, 'containers', c.json.Id, 'broken.json'), '{"half":');
    mkdirSync(join(d.dataRoot, 'content', 'sha256'), { recursive: true });
    writeFileSync(join(d.dataRoot, 'content', 'sha256', 'e'.repeat(64)), 'orphan');
    const bad = (await checkInvariants(d, seen)).join('\n');
    expect(bad).toMatch(/broken\.json does not parse/);
    expect(bad).toMatch(/temp files left in tmp: stray/);
    expect(bad).toMatch(/lost the log line "never-written"/);
    expect(bad).toMatch(new RegExp(`cgroup .*${gone} of removed container`));
    expect(bad).toMatch(new RegExp(`runtime state of ${gone.slice(0, 12)} is unreadable`));
    expect(bad).toMatch(/content blob sha256:eeeeeeeeeeee is referenced by no image/);
    await api(d, 'DELETE', `/containers/${c.json.Id}?force=1`);
  } finally {
    rmdirSync(cg);
    rmSync(join(d.execRoot, 'runtime', gone), { recursive: true, force: true });
    await d.stop();
  }
}, 60_000);
