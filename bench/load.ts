/**
 * API load: berthd vs Debian's dockerd in one run. Each engine gets the same busybox
 * image and RUNNING containers (`sleep`), then CLIENTS keep-alive clients send RATE
 * requests/s in all for DURATION seconds, mixing ps / inspect / logs / exec (create +
 * detached start) / create / rm; p50 and p99 per call. Then berthd's memory over
 * CYCLES run/rm cycles, sampled every 500, and its slope. Run: bench/load.sh
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Pool } from 'undici';
import { startDaemon, api } from '../test/fixtures/daemon.js';
import { buildImage, dockerArchive } from '../test/fixtures/images.js';
import { cycles, slope } from '../test/fixtures/cycles.js';
import { startDockerd } from './lib/dockerd.js';

const env = (k: string, d: number) => Number(process.env[k] ?? d);
const RUNNING = env('RUNNING', 200), CLIENTS = env('CLIENTS', 50), RATE = env('RATE', 1000), DURATION = env('DURATION', 60), CYCLES = env('CYCLES', 10_000);
const IMAGE = 'loadbench/busybox:latest';

type Op = 'ps' | 'inspect' | 'logs' | 'exec' | 'create' | 'rm';
const MIX: Array<[Op, number]> = [['ps', 10], ['inspect', 35], ['logs', 20], ['exec', 15], ['create', 10], ['rm', 10]];

function loadavg(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

function pick(r: number): Op {
  const total = MIX.reduce((a, [, w]) => a + w, 0);
  let x = r * total;
  for (const [op, w] of MIX) { if ((x -= w) < 0) return op; }
  return 'ps';
}

async function prepare(socket: string): Promise<string[]> {
  const img = await api({ socket }, 'POST', '/images/load?quiet=1', await dockerArchive([{ image: await buildImage(), repoTags: [IMAGE] }]));
  if (img.status !== 200) throw new Error(`image load: ${img.status} ${img.body}`);
  const ids: string[] = [];
  for (let i = 0; i < RUNNING; i += 10) {
    ids.push(...await Promise.all(Array.from({ length: Math.min(10, RUNNING - i) }, async () => {
      const c = await api({ socket }, 'POST', '/containers/create', { Image: IMAGE, Cmd: ['sh', '-c', 'echo started; exec sleep 3600'], HostConfig: { NetworkMode: 'none' } });
      if (c.status !== 201) throw new Error(`create: ${c.status} ${c.body}`);
      const s = await api({ socket }, 'POST', `/containers/${c.json.Id}/start`);
      if (s.status !== 204) throw new Error(`start: ${s.status} ${s.body}`);
      return c.json.Id as string;
    })));
  }
  return ids;
}

async function run(name: string, socket: string): Promise<Map<Op, number[]>> {
  const t0 = Date.now();
  const running = await prepare(socket);
  console.log(`${name}: ${running.length} containers running after ${((Date.now() - t0) / 1000).toFixed(1)} s (load ${loadavg()})`);
  const pool = new Pool('http://localhost', { socketPath: socket, connections: CLIENTS, pipelining: 1 });
  const lat = new Map<Op, number[]>(MIX.map(([op]) => [op, []]));
  const errors = new Map<string, number>();
  const created: string[] = [];
  const call = async (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; json: any }> => {
    const r = await pool.request({ method, path, body: body === undefined ? undefined : JSON.stringify(body), headers: body === undefined ? {} : { 'content-type': 'application/json' } });
    const text = await r.body.text();
    let json: any;
    try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
    return { status: r.statusCode, json };
  };
  const one = async (op: Op): Promise<number> => {
    const id = running[Math.floor(Math.random() * running.length)];
    const s = process.hrtime.bigint();
    let status: number;
    switch (op) {
      case 'ps': status = (await call('GET', '/containers/json')).status; break;
      case 'inspect': status = (await call('GET', `/containers/${id}/json`)).status; break;
      case 'logs': status = (await call('GET', `/containers/${id}/logs?stdout=1&stderr=1&tail=10`)).status; break;
      case 'exec': {
        const e = await call('POST', `/containers/${id}/exec`, { Cmd: ['true'] });
        status = e.status === 201 ? (await call('POST', `/exec/${e.json.Id}/start`, { Detach: true })).status : e.status;
        break;
      }
      case 'create': {
        const c = await call('POST', '/containers/create', { Image: IMAGE, Cmd: ['true'], HostConfig: { NetworkMode: 'none' } });
        if (c.status === 201) created.push(c.json.Id);
        status = c.status;
        break;
      }
      case 'rm': {
        const victim = created.shift();
        if (!victim) return one('create');
        status = (await call('DELETE', `/containers/${victim}?force=1`)).status;
        break;
      }
    }
    const ms = Number(process.hrtime.bigint() - s) / 1e6;
    if (status >= 400) errors.set(`${op} ${status}`, (errors.get(`${op} ${status}`) ?? 0) + 1);
    else lat.get(op)!.push(ms);
    return ms;
  };
  // Each client sends on its own schedule (RATE / CLIENTS per second); a client that
  // falls behind sends at once, so the achieved rate shows how far behind the engine is.
  const interval = (1000 * CLIENTS) / RATE;
  const start = Date.now(), end = start + DURATION * 1000;
  let sent = 0;
  await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
    let due = start + (interval * c) / CLIENTS;
    while (due < end && Date.now() < end) {
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      sent++;
      await one(pick(Math.random()));
      due += interval;
    }
  }));
  const secs = (Date.now() - start) / 1000;
  console.log(`${name}: ${sent} requests in ${secs.toFixed(1)} s = ${(sent / secs).toFixed(0)}/s (asked ${RATE}/s), errors: ${errors.size ? JSON.stringify(Object.fromEntries(errors)) : 'none'} (load ${loadavg()})`);
  for (const victim of created) await call('DELETE', `/containers/${victim}?force=1`);
  await pool.close();
  return lat;
}

/** Containers outlive their engine (live restore): removed before it stops. */
async function removeAll(socket: string): Promise<void> {
  const ids = (await api({ socket }, 'GET', '/containers/json?all=1')).json as Array<{ Id: string }>;
  for (let i = 0; i < ids.length; i += 20) await Promise.all(ids.slice(i, i + 20).map((c) => api({ socket }, 'DELETE', `/containers/${c.Id}?force=1`)));
}

function pct(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const mode = process.argv[2] ?? 'all';
console.log(`load average at start: ${loadavg()} (${cpus().length} CPUs)`);
if (mode === 'all' || mode === 'api') {
  const berthd = await startDaemon();
  let b: Map<Op, number[]>;
  try { b = await run('berthd', berthd.socket); } finally { await removeAll(berthd.socket); await berthd.stop(); }
  const dockerd = await startDockerd();
  let dk: Map<Op, number[]>;
  try { dk = await run('dockerd', dockerd.socket); } finally { await removeAll(dockerd.socket); await dockerd.stop(); }
  console.log(`\n${RUNNING} running, ${CLIENTS} clients, ${RATE}/s asked, ${DURATION} s each; latency ms`);
  console.log('call     berthd p50   p99  | dockerd p50   p99  | p99 ratio  (n berthd/dockerd)');
  for (const [op] of MIX) {
    const x = b.get(op)!, y = dk.get(op)!;
    const f = (v: number) => v.toFixed(1).padStart(7);
    console.log(`${op.padEnd(8)} ${f(pct(x, 50))} ${f(pct(x, 99))}  | ${f(pct(y, 50))} ${f(pct(y, 99))}  | ${(pct(x, 99) / pct(y, 99)).toFixed(2)}x  (${x.length}/${y.length})`);
  }
}
if (mode === 'all' || mode === 'rss') {
  const berthd = await startDaemon({ env: { NODE_OPTIONS: '--expose-gc', BERTHD_DEBUG_MEMORY: '1' } });
  try {
    await api(berthd, 'POST', '/images/load?quiet=1', await dockerArchive([{ image: await buildImage(), repoTags: [IMAGE] }]));
    console.log(`\nberthd memory over ${CYCLES} run/rm cycles (4 at a time), sampled every 500:`);
    const t0 = Date.now();
    const samples = await cycles(berthd, IMAGE, CYCLES, 500, 4, (s) => console.log(`  ${String(s.cycles).padStart(6)}  rss ${s.rssMb.toFixed(1)} MB  heap ${s.heapUsedMb.toFixed(1)} MB  (${((Date.now() - t0) / 1000).toFixed(0)} s, load ${loadavg()})`));
    // Caches and the event history fill during the first ~1000 cycles (RSS 68 → 104 MB
    // over the first 500 in one run): the slope is taken after them.
    const from = Math.min(1000, CYCLES);
    const tail = samples.filter((x) => x.cycles >= from);
    const per = (k: 'rssMb' | 'heapUsedMb') => slope(tail.map((s) => s.cycles), tail.map((s) => s[k])) * 1000;
    await removeAll(berthd.socket);
    console.log(`slope over cycles ${from}..${CYCLES}: rss ${per('rssMb').toFixed(3)} MB per 1000 cycles, heap ${per('heapUsedMb').toFixed(3)} MB per 1000 cycles`);
  } finally {
    await berthd.stop();
  }
}
