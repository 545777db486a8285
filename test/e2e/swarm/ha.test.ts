/**
 * A swarm of 3 managers and 2 workers on namespace hosts: three etcd members (one per
 * manager, joined with MemberAdd), the death of the leader's whole host (a new
 * leader, the service kept and its tasks rescheduled), loss of quorum (a clear error,
 * then recovery when a manager comes back).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { SwarmHosts, SwarmNode } from '../../fixtures/swarmhosts.js';
import { hostsWithBusybox, placement, total, waitFor } from './helpers.js';

jest.setTimeout(180_000);

let sw: SwarmHosts;
let managers: SwarmNode[];
let workers: SwarmNode[];

const leaderOf = async (m: SwarmNode) => (await m.docker('node', 'ls', '--format', '{{.Hostname}} {{.ManagerStatus}}')).split('\n').find((l) => l.endsWith(' Leader'))?.split(' ')[0];

beforeAll(async () => {
  sw = await hostsWithBusybox(5);
  managers = sw.nodes.slice(0, 3);
  workers = sw.nodes.slice(3);
});

afterAll(async () => {
  await sw?.cleanup();
});

test('3 managers and 2 workers form one swarm with one leader', async () => {
  const [m0, m1, m2] = managers;
  await m0.docker('swarm', 'init', '--advertise-addr', m0.ip);
  const mtoken = await m0.docker('swarm', 'join-token', '-q', 'manager');
  const wtoken = await m0.docker('swarm', 'join-token', '-q', 'worker');
  expect(mtoken).not.toBe(wtoken);
  for (const m of [m1, m2]) expect(await m.docker('swarm', 'join', '--token', mtoken, `${m0.ip}:2377`)).toContain('This node joined a swarm as a manager.');
  for (const w of workers) expect(await w.docker('swarm', 'join', '--token', wtoken, `${m1.ip}:2377`)).toContain('as a worker');
  const ls = (await m2.docker('node', 'ls', '--format', '{{.Hostname}} {{.Status}} {{.ManagerStatus}}')).split('\n').map((l) => l.trimEnd()).sort();
  expect(ls).toEqual(['host0 Ready Leader', 'host1 Ready Reachable', 'host2 Ready Reachable', 'host3 Ready', 'host4 Ready']);
  expect(await m1.docker('info', '--format', '{{.Swarm.Managers}} {{.Swarm.Nodes}}')).toBe('3 5');
  // every manager answers for the same cluster
  const ids = await Promise.all(managers.map((m) => m.docker('info', '--format', '{{.Swarm.Cluster.ID}}')));
  expect(new Set(ids).size).toBe(1);
});

test('kill of the leader\'s host: a new leader, no lost service, tasks rescheduled', async () => {
  const [m0, m1] = managers;
  await m1.docker('service', 'create', '-d', '--no-resolve-image', '--stop-grace-period', '1s', '--name', 'keep', '--replicas', '5', 'busybox:latest', 'sleep', '100000');
  await waitFor('5 tasks, one per node', async () => { const p = await placement(m1, 'keep'); return total(p) === 5 && Object.keys(p).length === 5; });
  expect(await leaderOf(m1)).toBe('host0');
  const killedAt = Date.now();
  m0.host.kill();
  const leader = await waitFor('a new leader', async () => { const l = await leaderOf(m1); return l && l !== 'host0' && l; }, 60_000, () => m1.logs());
  expect(['host1', 'host2']).toContain(leader);
  const p = await waitFor('5 tasks on the 4 live nodes', async () => {
    const p = await placement(m1, 'keep');
    return total(p) === 5 && !p.host0 && p;
  }, 90_000, () => m1.logs());
  process.stdout.write(`swarm: leader host killed -> new leader and its tasks running elsewhere in ${Date.now() - killedAt} ms\n`);
  expect(Object.keys(p).sort()).toEqual(['host1', 'host2', 'host3', 'host4']);
  expect(await m1.docker('service', 'ls', '--format', '{{.Name}} {{.Replicas}}')).toBe('keep 5/5');
  expect(await m1.docker('node', 'inspect', 'host0', '--format', '{{.Status.State}} {{.ManagerStatus.Reachability}}')).toBe('down unreachable');
});

test('loss of quorum: a clear error; the swarm recovers when a manager returns', async () => {
  const [, m1, m2] = managers;
  // m2 dies (berthd and its etcd member): 1 of 3 members left
  const etcdPid = Number(readFileSync(join(m2.host.dir, 'berth-data', 'swarm', 'etcd.pid'), 'utf8'));
  m2.kill9();
  process.kill(etcdPid, 'SIGKILL');
  const err = await waitFor('an error without quorum', async () => (await m1.dockerFails('service', 'ls').catch(() => '')) || undefined, 90_000);
  expect(err).toContain('swarm store unavailable');
  expect(err).toContain('is a quorum of managers up?');
  await m2.restart();
  await waitFor('service ls works again', async () => (await m1.docker('service', 'ls', '--format', '{{.Name}} {{.Replicas}}')) === 'keep 5/5', 90_000, () => m2.logs());
  await m1.docker('service', 'scale', '-d', 'keep=6');
  await waitFor('6 tasks', async () => total(await placement(m1, 'keep')) === 6);
  // with host0 dead, m2 leaving would leave one live member of two: refused without --force
  expect(await m2.dockerFails('swarm', 'leave')).toContain('Removing this node leaves 1 reachable managers out of 2');
});
