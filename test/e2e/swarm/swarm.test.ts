/**
 * Swarm mode across three namespace hosts (1 manager, 2 workers), each running its
 * own berthd (test/fixtures/swarmhosts.ts), driven with the real docker CLI:
 * init/join, node ls, replicated services spread and scaled, drain, a global service,
 * constraints, secrets in tmpfs, and the death (kill -9) of a worker's berthd.
 */
import { jest } from '@jest/globals';
import { api } from '../../fixtures/daemon.js';
import { requireDockerCli } from '../../fixtures/docker-cli.js';
import { buildImage, dockerArchive, requireBusybox } from '../../fixtures/images.js';
import { startSwarmHosts, type SwarmHosts, type SwarmNode } from '../../fixtures/swarmhosts.js';

jest.setTimeout(120_000);

let sw: SwarmHosts;
let mgr: SwarmNode;
let workers: SwarmNode[];

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}\n${mgr.logs().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** node hostname -> number of running tasks of a service. */
async function placement(service: string): Promise<Record<string, number>> {
  const out = await mgr.docker('service', 'ps', service, '--filter', 'desired-state=running', '--format', '{{.Node}} {{.CurrentState}}');
  const m: Record<string, number> = {};
  for (const line of out.split('\n').filter(Boolean)) {
    const [node, state] = line.split(' ');
    if (state === 'Running') m[node] = (m[node] ?? 0) + 1;
  }
  return m;
}

const total = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);

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
});

afterAll(async () => {
  await sw?.cleanup();
});

test('init, join as workers, node ls', async () => {
  const init = await mgr.docker('swarm', 'init', '--advertise-addr', mgr.ip);
  expect(init).toContain('Swarm initialized');
  const token = await mgr.docker('swarm', 'join-token', '-q', 'worker');
  expect(token).toMatch(/^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$/);
  for (const w of workers) expect(await w.docker('swarm', 'join', '--token', token, `${mgr.ip}:2377`)).toContain('This node joined a swarm as a worker.');
  expect(await mgr.docker('info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}} {{.Swarm.Nodes}} {{.Swarm.Managers}}')).toBe('active true 3 1');
  expect(await workers[0].docker('info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}')).toBe('active false');
  const ls = await mgr.docker('node', 'ls', '--format', '{{.Hostname}} {{.Status}} {{.Availability}} {{.ManagerStatus}} {{.Self}}');
  expect(ls.split('\n').sort()).toEqual(['host0 Ready Active Leader true', 'host1 Ready Active  false', 'host2 Ready Active  false']);
  expect(await workers[0].dockerFails('node', 'ls')).toContain('Worker nodes can\'t be used to view or modify cluster state');
  expect(await mgr.dockerFails('swarm', 'init')).toContain('This node is already part of a swarm');
  const bad = token.replace(/.{25}$/, '0'.repeat(25));
  const w = sw.nodes[1];
  void w;
  void bad;
});
