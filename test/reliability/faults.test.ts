/**
 * CI's bounded tier of the fault campaign (test/reliability/faults.ts): kill -9 of
 * berthd at seeded random moments during every kind of operation, then a restart and
 * the invariant check. BERTH_FAULT_SEED replays a run; BERTH_FAULT_ITERATIONS and
 * BERTH_FAULT_BUDGET_S make it longer (bench/reliability.sh does, for soak runs).
 */
import { startRegistry, type Registry } from '../fixtures/registry.js';
import { runCampaign } from './faults.js';

const seed = Number(process.env.BERTH_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
const iterations = Number(process.env.BERTH_FAULT_ITERATIONS ?? 200);
const budgetS = Number(process.env.BERTH_FAULT_BUDGET_S ?? 120);

let registry: Registry;
beforeAll(async () => { registry = await startRegistry(); });
afterAll(async () => { await registry?.stop(); });

test(`kill -9 of berthd at random moments loses nothing and leaks nothing (seed ${seed})`, async () => {
  const r = await runCampaign({ seed, iterations, budgetMs: budgetS * 1000, registry: registry.host, log: (l) => process.stderr.write(`${l}\n`) });
  expect(r.violations).toEqual([]);
  expect(r.iterations).toBeGreaterThan(0);
}, (budgetS + 120) * 1000);

test('the invariant checker sees planted damage (it can fail)', async () => {
  const { api, startDaemon } = await import('../fixtures/daemon.js');
  const { buildImage, dockerArchive } = await import('../fixtures/images.js');
  const { checkInvariants } = await import('./invariants.js');
  const { mkdirSync, writeFileSync, rmdirSync, existsSync } = await import('node:fs');
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
    writeFileSync(join(d.dataRoot, 'containers', c.json.Id, 'broken.json'), '{"half":');
    mkdirSync(join(d.dataRoot, 'content', 'sha256'), { recursive: true });
    writeFileSync(join(d.dataRoot, 'content', 'sha256', 'e'.repeat(64)), 'orphan');
    const bad = (await checkInvariants(d, seen)).join('\n');
    expect(bad).toMatch(/broken\.json does not parse/);
    expect(bad).toMatch(/temp files left in tmp: stray/);
    expect(bad).toMatch(/lost the log line "never-written"/);
    expect(bad).toMatch(new RegExp(`cgroup .*${gone} of removed container`));
    expect(bad).toMatch(/content blob sha256:eeeeeeeeeeee is referenced by no image/);
    await api(d, 'DELETE', `/containers/${c.json.Id}?force=1`);
  } finally {
    rmdirSync(cg);
    await d.stop();
  }
}, 60_000);
