/**
 * Swarm simulation (run by bench/swarm-sim.sh): one real manager berthd (etcd, leader,
 * orchestrator, scheduler) on loopback, and N simulated worker nodes written straight
 * into its store — node records, heartbeat leases, and one simulated agent that moves
 * every task assigned to a simulated node to "running" (or "shutdown") without running
 * a container. Measures, for N nodes and R = 10 x N replicas:
 *   - service create --replicas R to R tasks running;
 *   - one node's lease revoked (its death) to its tasks running on the others.
 * Usage: NODES=100 bench/swarm-sim.sh
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, freePort, startDaemon } from '../test/fixtures/daemon.js';
import { dockerCli } from '../test/fixtures/docker-cli.js';
import { connectEtcd, PREFIX, Store } from '../engine/swarm/store.js';
import { isTerminal, newId, nowIso } from '../engine/swarm/spec.js';

const N = Number(process.env.NODES ?? 100);
const R = Number(process.env.REPLICAS ?? 10 * N);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const d = await startDaemon();
const { docker } = dockerCli(() => d.env);
try {
  const port = await freePort();
  await docker('swarm', 'init', '--advertise-addr', '127.0.0.1', '--listen-addr', `127.0.0.1:${port}`);
  await docker('node', 'update', '--availability', 'drain', await docker('info', '--format', '{{.Swarm.NodeID}}'));
  const certs = join(d.dataRoot, 'swarm', 'certs');
  const read = (n: string) => readFileSync(join(certs, n), 'utf8');
  const store = new Store(await connectEtcd([`https://127.0.0.1:${port + 2}`], { ca: read('ca.pem'), cert: read('node.pem'), key: read('node-key.pem') }));
  const client = store.client;

  // simulated nodes: all but the victim share one lease; the victim has its own
  const shared = client.lease(30);
  const victimLease = client.lease(30);
  const ids: string[] = [];
  for (let i = 0; i < N; i++) {
    const id = newId();
    ids.push(id);
    const now = nowIso();
    await store.create('nodes', id, {
      ID: id, CreatedAt: now, UpdatedAt: now, Spec: { Labels: {}, Role: 'worker', Availability: 'active' },
      Description: { Hostname: `sim${i}`, Platform: { Architecture: 'x86_64', OS: 'linux' }, Resources: {}, Engine: { EngineVersion: 'sim' } }, Addr: '127.0.0.1', Port: 0,
    });
    await (i === 0 ? victimLease : shared).put(`${PREFIX}alive/${id}`).value('"127.0.0.1"').exec();
  }
  const sim = new Set(ids);

  // the simulated agent
  let busy = false;
  let again = false;
  const step = async () => {
    if (busy) { again = true; return; }
    busy = true;
    try {
      for (const t of await store.list<any>('tasks')) {
        const v = t.value;
        if (!sim.has(v.NodeID) || isTerminal(v.Status.State)) continue;
        const next = v.DesiredState === 'running' ? (v.Status.State === 'running' ? undefined : 'running') : 'shutdown';
        if (next) await store.update('tasks', t.id, { ...v, Status: { ...v.Status, State: next, Timestamp: nowIso(), Message: next } }, t.version).catch(() => undefined);
      }
    } finally {
      busy = false;
      if (again) { again = false; void step(); }
    }
  };
  const closeWatch = await store.watch(['tasks'], () => void step());

  const runningOn = async (exclude?: string) => {
    const r = await api(d, 'GET', `/v1.47/tasks?filters=${encodeURIComponent(JSON.stringify({ service: ['sim'], 'desired-state': ['running'] }))}`);
    return (r.json as any[]).filter((t) => t.Status.State === 'running' && t.NodeID !== exclude).length;
  };
  let t = Date.now();
  await docker('service', 'create', '-d', '--no-resolve-image', '--name', 'sim', '--replicas', String(R), 'busybox:latest', 'sleep', '1');
  while ((await runningOn()) < R) await sleep(200);
  const created = Date.now() - t;
  const perNode = (await store.list<any>('tasks')).filter((x) => x.value.NodeID === ids[0] && x.value.DesiredState === 'running').length;
  t = Date.now();
  await victimLease.revoke();
  while ((await runningOn(ids[0])) < R) await sleep(200);
  const resched = Date.now() - t;
  console.log(`simulated swarm: ${N} nodes, ${R} replicas, load average ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
  console.log(`service create --replicas ${R} -> all running: ${created} ms (${(created / R).toFixed(1)} ms per task)`);
  console.log(`one node's lease revoked (${perNode} tasks) -> running elsewhere: ${resched} ms`);
  await closeWatch();
  shared.release();
  store.close();
} finally {
  await docker('swarm', 'leave', '--force').catch(() => undefined);
  await d.stop();
}
process.exit(0);
