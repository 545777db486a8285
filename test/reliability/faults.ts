/**
 * Fault injection: berthd is killed with SIGKILL at seeded random moments while a
 * random mix of operations runs (run, start/stop, exec, commit, volume copy-up,
 * network connect/disconnect, removals, pull and push against a loopback registry),
 * then restarted on the same roots, and checkInvariants() must find nothing wrong.
 *
 * The seed picks everything (operations, their arguments, the moment of the kill);
 * it is printed first so that a failure can be replayed with BERTH_FAULT_SEED=<seed>.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { api, startDaemon, type Daemon } from '../fixtures/daemon.js';
import { buildImage, dockerArchive } from '../fixtures/images.js';
import { checkInvariants, type Seen } from './invariants.js';

export interface CampaignOptions {
  seed: number;
  /** At most this many kills… */
  iterations: number;
  /** …and no new iteration after this many ms… */
  budgetMs: number;
  /** …once at least this many have run (default 0). */
  minIterations?: number;
  /** A loopback registry (host:port) for pull and push; without one those ops are skipped. */
  registry?: string;
  log?: (line: string) => void;
}

export interface CampaignResult {
  seed: number;
  iterations: number;
  operations: Record<string, number>;
  violations: string[];
}

/** mulberry32: small, seedable, good enough to pick operations. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const IMAGE = 'faults/busybox:latest';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Op = (ctx: OpContext) => Promise<unknown>;
interface OpContext { d: Daemon; rand: () => number; seen: Seen; n: number; registry?: string }

const pick = <T>(rand: () => number, xs: T[]): T | undefined => xs[Math.floor(rand() * xs.length)];

async function containers(d: Daemon, state?: string): Promise<string[]> {
  const r = await api(d, 'GET', '/containers/json?all=1');
  return ((r.json ?? []) as Array<{ Id: string; State: string }>).filter((c) => !state || c.State === state).map((c) => c.Id);
}

async function run(ctx: OpContext, extra: Record<string, unknown> = {}): Promise<string | undefined> {
  const marker = `marker-${ctx.n}-${Math.floor(ctx.rand() * 1e9)}`;
  const c = await api(ctx.d, 'POST', '/containers/create', { Image: IMAGE, Cmd: ['sh', '-c', `echo ${marker}; while true; do sleep 1; done`], StopTimeout: 1, ...extra });
  if (c.status !== 201) return undefined;
  ctx.seen.containers.add(c.json.Id);
  if ((await api(ctx.d, 'POST', `/containers/${c.json.Id}/start`)).status !== 204) return c.json.Id;
  // Once the log has the marker, it must survive any kill from here on.
  for (let i = 0; i < 20; i++) {
    const logs = await api(ctx.d, 'GET', `/containers/${c.json.Id}/logs?stdout=1`);
    if (logs.body.toString('latin1').includes(marker)) { ctx.seen.logs.set(c.json.Id, marker); break; }
    await sleep(25);
  }
  return c.json.Id;
}

const OPS: Record<string, Op> = {
  run: (ctx) => run(ctx),
  stop: async (ctx) => { const id = pick(ctx.rand, await containers(ctx.d, 'running')); if (id) await api(ctx.d, 'POST', `/containers/${id}/stop?t=1`); },
  start: async (ctx) => { const id = pick(ctx.rand, await containers(ctx.d, 'exited')); if (id) await api(ctx.d, 'POST', `/containers/${id}/start`); },
  exec: async (ctx) => {
    const id = pick(ctx.rand, await containers(ctx.d, 'running'));
    if (!id) return;
    const e = await api(ctx.d, 'POST', `/containers/${id}/exec`, { Cmd: ['sh', '-c', 'echo exec; sleep 0.2'], AttachStdout: true });
    if (e.status === 201) await api(ctx.d, 'POST', `/exec/${e.json.Id}/start`, { Detach: false });
  },
  commit: async (ctx) => {
    const id = pick(ctx.rand, await containers(ctx.d));
    if (id) await api(ctx.d, 'POST', `/commit?container=${id}&repo=faults/commit&tag=c${ctx.n}`);
  },
  volume: (ctx) => run(ctx, { HostConfig: { Mounts: [{ Type: 'volume', Source: `faults-vol-${ctx.n}`, Target: '/etc' }] } }),
  network: async (ctx) => {
    const name = `faults-net-${ctx.n}`;
    const n = await api(ctx.d, 'POST', '/networks/create', { Name: name, Driver: 'bridge' });
    const id = pick(ctx.rand, await containers(ctx.d, 'running'));
    if (n.status !== 201 || !id) return;
    await api(ctx.d, 'POST', `/networks/${name}/connect`, { Container: id });
    if (ctx.rand() < 0.5) await api(ctx.d, 'POST', `/networks/${name}/disconnect`, { Container: id, Force: true });
  },
  'rm-container': async (ctx) => { const id = pick(ctx.rand, await containers(ctx.d)); if (id) await api(ctx.d, 'DELETE', `/containers/${id}?force=1&v=1`); },
  'rm-image': async (ctx) => {
    const imgs = ((await api(ctx.d, 'GET', '/images/json')).json ?? []) as Array<{ RepoTags?: string[] }>;
    const tag = pick(ctx.rand, imgs.flatMap((i) => i.RepoTags ?? []).filter((t) => t !== IMAGE));
    if (tag) await api(ctx.d, 'DELETE', `/images/${encodeURIComponent(tag)}?force=1`);
  },
  'rm-volume': async (ctx) => {
    const vols = ((await api(ctx.d, 'GET', '/volumes')).json?.Volumes ?? []) as Array<{ Name: string }>;
    const v = pick(ctx.rand, vols);
    if (v) await api(ctx.d, 'DELETE', `/volumes/${v.Name}`);
  },
  'rm-network': async (ctx) => {
    const nets = ((await api(ctx.d, 'GET', '/networks')).json ?? []) as Array<{ Name: string }>;
    const n = pick(ctx.rand, nets.filter((x) => x.Name.startsWith('faults-net-')));
    if (n) await api(ctx.d, 'DELETE', `/networks/${n.Name}`);
  },
  push: async (ctx) => {
    if (!ctx.registry) return;
    const ref = `${ctx.registry}/faults/p${ctx.n % 3}:latest`;
    await api(ctx.d, 'POST', `/images/${encodeURIComponent(IMAGE)}/tag?repo=${encodeURIComponent(`${ctx.registry}/faults/p${ctx.n % 3}`)}&tag=latest`);
    await api(ctx.d, 'POST', `/images/${encodeURIComponent(ref)}/push`, undefined, { 'X-Registry-Auth': Buffer.from('{}').toString('base64') });
  },
  pull: async (ctx) => {
    if (!ctx.registry) return;
    await api(ctx.d, 'POST', `/images/create?fromImage=${encodeURIComponent(`${ctx.registry}/faults/p${ctx.n % 3}`)}&tag=latest`);
  },
};

async function killHard(d: Daemon): Promise<void> {
  if (d.process.exitCode !== null || d.process.signalCode !== null) return;
  const exited = new Promise<void>((r) => d.process.once('exit', () => r()));
  process.kill(d.pid, 'SIGKILL');
  await exited;
}

/** Runs the campaign; leaves nothing behind (containers removed, daemon stopped, roots deleted). */
export async function runCampaign(opts: CampaignOptions): Promise<CampaignResult> {
  const log = opts.log ?? (() => undefined);
  const rand = prng(opts.seed);
  log(`fault campaign: seed ${opts.seed} (replay with BERTH_FAULT_SEED=${opts.seed}), at most ${opts.iterations} kills in ${Math.round(opts.budgetMs / 1000)} s`);
  let d = await startDaemon({ keep: true });
  const base = join(d.dataRoot, '..');
  const seen: Seen = { logs: new Map(), containers: new Set() };
  const operations: Record<string, number> = {};
  const violations: string[] = [];
  const end = Date.now() + opts.budgetMs;
  let i = 0;
  try {
    const load = await api(d, 'POST', '/images/load?quiet=1', await dockerArchive([{ image: await buildImage(), repoTags: [IMAGE] }]));
    if (load.status !== 200) throw new Error(`loading the test image: ${load.status} ${load.body}`);
    const names = Object.keys(OPS).filter((k) => opts.registry || (k !== 'pull' && k !== 'push'));
    for (; i < opts.iterations && (i < (opts.minIterations ?? 0) || Date.now() < end); i++) {
      // Keep the engine's load bounded: a few running containers at most.
      const running = await containers(d, 'running');
      if (running.length > 4) await api(d, 'DELETE', `/containers/${running[0]}?force=1`);
      const batch = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => names[Math.floor(rand() * names.length)]);
      const killAfter = Math.floor(rand() * 400);
      for (const b of batch) operations[b] = (operations[b] ?? 0) + 1;
      const ctx: OpContext = { d, rand: prng(Math.floor(rand() * 2 ** 32)), seen, n: i, registry: opts.registry };
      const pending = Promise.allSettled(batch.map((b) => OPS[b](ctx)));
      await sleep(killAfter);
      await killHard(d);
      await pending;
      d = await startDaemon({ dataRoot: d.dataRoot, execRoot: d.execRoot, keep: true });
      const bad = await checkInvariants(d, seen);
      if (bad.length) {
        violations.push(...bad.map((b) => `iteration ${i} (${batch.join('+')}, kill after ${killAfter} ms): ${b}`));
        log(`iteration ${i}: ${bad.length} violation(s):\n  ${bad.join('\n  ')}`);
        break;
      }
      // The image every container comes from still runs after the restart.
      if (i % 5 === 4) {
        const c = await api(d, 'POST', '/containers/create', { Image: IMAGE, Cmd: ['true'] });
        const started = c.status === 201 ? await api(d, 'POST', `/containers/${c.json.Id}/start`) : c;
        if (started.status !== 204) violations.push(`iteration ${i}: ${IMAGE} no longer runs: ${started.status} ${started.body}`);
        if (c.status === 201) await api(d, 'DELETE', `/containers/${c.json.Id}?force=1`);
      }
    }
  } finally {
    for (const id of await containers(d).catch(() => [])) await api(d, 'DELETE', `/containers/${id}?force=1&v=1`).catch(() => undefined);
    for (const n of (((await api(d, 'GET', '/networks').catch(() => undefined))?.json ?? []) as Array<{ Name: string }>)) {
      if (n.Name.startsWith('faults-net-')) await api(d, 'DELETE', `/networks/${n.Name}`).catch(() => undefined);
    }
    await d.stop();
    if (existsSync(base)) {
      try { execFileSync('umount', ['-R', '-l', base], { stdio: 'ignore' }); } catch { /* nothing mounted */ }
      rmSync(base, { recursive: true, force: true });
    }
  }
  log(`fault campaign: ${i} iteration(s) survived, operations ${JSON.stringify(operations)}, ${violations.length} violation(s)`);
  return { seed: opts.seed, iterations: i, operations, violations };
}
