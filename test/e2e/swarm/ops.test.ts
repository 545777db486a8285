/**
 * Swarm operations on three namespace hosts (one manager, two workers at first), with
 * the real docker CLI: service and task logs gathered from every node (follow too),
 * promote and demote (etcd members added and removed), etcd RBAC (a worker's
 * certificate cannot write outside its own keys nor read secrets), placement
 * preferences and start-first updates.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { jest } from '@jest/globals';
import { api } from '../../fixtures/daemon.js';
import { DOCKER_CLI, requireDockerCli } from '../../fixtures/docker-cli.js';
import { buildImage, dockerArchive, requireBusybox } from '../../fixtures/images.js';
import { startSwarmHosts, type SwarmHosts, type SwarmNode } from '../../fixtures/swarmhosts.js';
import { placement as placementOn, total, waitFor as waitForBound } from './helpers.js';

jest.setTimeout(120_000);

const run = promisify(execFile);
let sw: SwarmHosts;
let mgr: SwarmNode;
let workers: SwarmNode[];

const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>) => waitForBound(what, fn, 60_000, () => mgr.logs());
const placement = (service: string) => placementOn(mgr, service);
const create = (...args: string[]) => mgr.docker('service', 'create', '-d', '--no-resolve-image', '--stop-grace-period', '1s', ...args);

/** stdout and stderr of a docker command on the manager, lines sorted. */
async function both(...args: string[]): Promise<{ out: string[]; err: string[] }> {
  const { stdout, stderr } = await run(DOCKER_CLI, args, { env: { ...process.env, ...mgr.env } });
  const lines = (s: string) => s.split('\n').filter(Boolean).sort();
  return { out: lines(stdout), err: lines(stderr) };
}

beforeAll(async () => {
  requireDockerCli();
  requireBusybox();
  sw = await startSwarmHosts(3);
  [mgr, ...workers] = sw.nodes;
  const tar = await dockerArchive([{ image: await buildImage(), repoTags: ['busybox:latest'] }]);
  await Promise.all(sw.nodes.map(async (n) => {
    const r = await api(n, 'POST', '/images/load?quiet=1', tar);
    if (r.status !== 200) throw new Error(`load on ${n.name}: ${r.body}`);
  }));
  await mgr.docker('swarm', 'init', '--advertise-addr', mgr.ip);
  const token = await mgr.docker('swarm', 'join-token', '-q', 'worker');
  for (const w of workers) await w.docker('swarm', 'join', '--token', token, `${mgr.ip}:2377`);
});

afterAll(async () => {
  await sw?.cleanup();
});

test('service logs: every task on every node, with the task@node prefix; tail, timestamps, task logs, follow', async () => {
  await create('--name', 'talk', '--replicas', '3', 'busybox:latest', 'sh', '-c', 'echo out-$(hostname); echo err-$(hostname) >&2; exec sleep 100000');
  await waitFor('3 tasks, one per node', async () => { const p = await placement('talk'); return total(p) === 3 && Object.keys(p).length === 3; });
  const prefix = /^talk\.[123]\.[0-9a-z]{12}@(host[012])\s+\| /;
  const all = await waitFor('6 lines', async () => { const r = await both('service', 'logs', 'talk'); return r.out.length === 3 && r.err.length === 3 && r; });
  for (const line of [...all.out, ...all.err]) expect(line).toMatch(prefix);
  expect(new Set(all.out.map((l) => prefix.exec(l)![1]))).toEqual(new Set(['host0', 'host1', 'host2']));
  expect(all.out.every((l) => / out-[0-9a-f]{12}$/.test(l))).toBe(true);
  expect(all.err.every((l) => / err-[0-9a-f]{12}$/.test(l))).toBe(true);

  // the details docker's CLI parses are in the raw stream
  const raw = await api(mgr, 'GET', '/v1.47/services/talk/logs?stdout=1&stderr=1&details=1');
  expect(raw.status).toBe(200);
  expect(String(raw.body)).toMatch(/com\.docker\.swarm\.node\.id=[0-9a-z]{25},com\.docker\.swarm\.service\.id=[0-9a-z]{25},com\.docker\.swarm\.task\.id=[0-9a-z]{25} out-/);

  const tail = await both('service', 'logs', '--tail', '1', '--no-trunc', 'talk');
  expect(tail.out.length + tail.err.length).toBe(3);
  const ts = await both('service', 'logs', '--timestamps', '--no-task-ids', 'talk');
  for (const line of ts.out) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z talk\.[123]@host[012]\s+\| out-/);

  const taskId = (await mgr.docker('service', 'ps', '-q', '--no-trunc', '--filter', 'node=host2', 'talk')).split('\n')[0];
  const one = await both('service', 'logs', '--raw', taskId);
  expect(one).toEqual({ out: [expect.stringMatching(/^out-/)], err: [expect.stringMatching(/^err-/)] });

  // follow: a task started later shows up in the same stream
  const follow = spawn(DOCKER_CLI, ['service', 'logs', '-f', 'talk'], { env: { ...process.env, ...mgr.env } });
  let followed = '';
  follow.stdout.on('data', (d) => (followed += d));
  try {
    await waitFor('3 lines followed', async () => followed.split('\n').filter(Boolean).length >= 3);
    await mgr.docker('service', 'scale', '-d', 'talk=4');
    await waitFor('the 4th task\'s line', async () => /talk\.4\.[0-9a-z]{12}@host\d\s+\| out-/.test(followed));
  } finally {
    follow.kill();
  }
  expect(await mgr.dockerFails('service', 'logs', 'nothing-here')).toContain('no such task or service: nothing-here');
  await mgr.docker('service', 'rm', 'talk');
});
