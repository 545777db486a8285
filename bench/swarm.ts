/**
 * Swarm benchmark on 5 namespace nodes (1 manager, 4 workers), run by bench/swarm.sh:
 *  1. `docker service create --replicas 20` to all 20 tasks running (polled every
 *     100 ms through the manager's API), against the floor in the same run: the same
 *     20 containers started with `docker run -d`, 4 per node, the nodes in parallel;
 *  2. kill -9 of a worker's berthd to its tasks running on the other nodes (the
 *     heartbeat lease is 6 s: the floor is that TTL).
 * Docker's own swarm mode is not installed here; its published figures are quoted in
 * docs/swarm.md.
 */
import { spawnSync } from 'node:child_process';
import { api } from '../test/fixtures/daemon.js';
import { buildImage, dockerArchive } from '../test/fixtures/images.js';
import { startSwarmHosts } from '../test/fixtures/swarmhosts.js';

const runs = Number(process.env.RUNS ?? 3);
const sw = await startSwarmHosts(5);
const [mgr, ...workers] = sw.nodes;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stats = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return { min: s[0], median: s[Math.floor(s.length / 2)] }; };
const fmt = (name: string, xs: number[]) => { const { min, median } = stats(xs); return `${name.padEnd(48)} min ${min.toFixed(0).padStart(6)} ms   median ${median.toFixed(0).padStart(6)} ms`; };

async function running(service: string, excludeNode?: string): Promise<number> {
  const r = await api(mgr, 'GET', `/v1.47/tasks?filters=${encodeURIComponent(JSON.stringify({ service: [service], 'desired-state': ['running'] }))}`);
  return (r.json as any[]).filter((t) => t.Status.State === 'running' && t.NodeID !== excludeNode).length;
}

try {
  const tar = await dockerArchive([{ image: await buildImage(), repoTags: ['busybox:latest'] }]);
  await Promise.all(sw.nodes.map((n) => api(n, 'POST', '/images/load?quiet=1', tar)));
  await mgr.docker('swarm', 'init', '--advertise-addr', mgr.ip);
  const token = await mgr.docker('swarm', 'join-token', '-q', 'worker');
  for (const w of workers) await w.docker('swarm', 'join', '--token', token, `${mgr.ip}:2377`);

  const create: number[] = [];
  const floor: number[] = [];
  const resched: number[] = [];
  for (let i = 0; i < runs; i++) {
    // floor: 20 plain containers, 4 per node, nodes in parallel
    let t = Date.now();
    await Promise.all(sw.nodes.map(async (n) => {
      for (let k = 0; k < 4; k++) await n.docker('run', '-d', '--name', `floor${i}-${k}`, 'busybox:latest', 'sleep', '100000');
    }));
    floor.push(Date.now() - t);
    await Promise.all(sw.nodes.map((n) => n.docker('rm', '-f', ...[0, 1, 2, 3].map((k) => `floor${i}-${k}`))));

    const name = `b${i}`;
    t = Date.now();
    await mgr.docker('service', 'create', '-d', '--no-resolve-image', '--stop-grace-period', '1s', '--name', name, '--replicas', '20', 'busybox:latest', 'sleep', '100000');
    while ((await running(name)) < 20) await sleep(100);
    create.push(Date.now() - t);

    const victim = workers[i % workers.length];
    const victimId = await victim.docker('info', '--format', '{{.Swarm.NodeID}}');
    t = Date.now();
    victim.kill9();
    while ((await running(name, victimId)) < 20) await sleep(100);
    resched.push(Date.now() - t);
    await victim.restart();
    while ((await mgr.docker('node', 'inspect', victimId, '--format', '{{.Status.State}}')) !== 'ready') await sleep(200);
    await mgr.docker('service', 'rm', name);
    while ((await Promise.all(sw.nodes.map((n) => n.docker('ps', '-q')))).some(Boolean)) await sleep(200);
  }
  const load = spawnSync('cat', ['/proc/loadavg']).stdout.toString().trim();
  console.log(`swarm of 5 namespace nodes (1 manager, 4 workers), ${runs} runs, load average ${load}`);
  console.log(fmt('service create --replicas 20 -> 20 running', create));
  console.log(fmt('floor: 20 x docker run -d (4 per node, parallel)', floor));
  console.log(`ratio of medians: ${(stats(create).median / stats(floor).median).toFixed(2)}`);
  console.log(fmt('worker berthd kill -9 -> its tasks running again', resched));
  console.log(`floor: heartbeat lease TTL 6000 ms; ratio of medians: ${(stats(resched).median / 6000).toFixed(2)}`);
} finally {
  await sw.cleanup();
}
