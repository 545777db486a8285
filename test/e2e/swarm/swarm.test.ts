/**
 * Swarm mode across three namespace hosts (1 manager, 2 workers), each running its
 * own berthd (test/fixtures/swarmhosts.ts), driven with the real docker CLI:
 * init/join, node ls, replicated services spread and scaled, drain, a global service,
 * constraints, secrets in tmpfs, and the death (kill -9) of a worker's berthd.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { jest } from '@jest/globals';
import { api } from '../../fixtures/daemon.js';
import { DOCKER_CLI } from '../../fixtures/docker-cli.js';
import type { SwarmHosts, SwarmNode } from '../../fixtures/swarmhosts.js';
import { hostsWithBusybox, placement as placementOn, total, waitFor as waitForBound } from './helpers.js';

jest.setTimeout(120_000);

let sw: SwarmHosts;
let mgr: SwarmNode;
let workers: SwarmNode[];

const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>) => waitForBound(what, fn, 60_000, () => mgr.logs());
const placement = (service: string) => placementOn(mgr, service);

beforeAll(async () => {
  sw = await hostsWithBusybox(3);
  [mgr, ...workers] = sw.nodes;
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
  expect(await mgr.docker('node', 'inspect', '--pretty', 'host1')).toMatch(/Hostname:\s+host1[\s\S]*TLS Info:/);
  const rotated = await mgr.docker('swarm', 'join-token', '--rotate', '-q', 'worker');
  expect(rotated).not.toBe(token);
  expect(rotated.slice(0, 60)).toBe(token.slice(0, 60));
});

const create = (...args: string[]) => mgr.docker('service', 'create', '-d', '--no-resolve-image', '--stop-grace-period', '1s', ...args);

test('a replicated service spreads over the nodes and scales', async () => {
  await create('--name', 'web', '--replicas', '3', 'busybox:latest', 'sleep', '100000');
  expect(await waitFor('3 tasks, one per node', async () => {
    const p = await placement('web');
    return total(p) === 3 && Object.keys(p).length === 3 && p;
  })).toEqual({ host0: 1, host1: 1, host2: 1 });
  const names = await workers[0].docker('ps', '--filter', 'label=com.docker.swarm.service.name=web', '--format', '{{.Names}} {{.Label "com.docker.swarm.task.id"}}');
  expect(names).toMatch(/^web\.\d\.[0-9a-z]{25} [0-9a-z]{25}$/);
  await mgr.docker('service', 'scale', '-d', 'web=6');
  expect(await waitFor('6 tasks, two per node', async () => {
    const p = await placement('web');
    return total(p) === 6 && Object.values(p).every((n) => n === 2) && p;
  })).toEqual({ host0: 2, host1: 2, host2: 2 });
  await mgr.docker('service', 'scale', '-d', 'web=2');
  await waitFor('2 tasks', async () => total(await placement('web')) === 2);
  await waitFor('service ls 2/2', async () => (await mgr.docker('service', 'ls', '--format', '{{.Name}} {{.Mode}} {{.Replicas}}')) === 'web replicated 2/2');
  const inspect = JSON.parse(await mgr.docker('service', 'inspect', 'web'))[0];
  expect(inspect.Version.Index).toBeGreaterThan(0);
  expect(inspect.Spec.Mode.Replicated.Replicas).toBe(2);
  // the containers of removed slots are gone from every node
  await waitFor('old containers removed', async () => {
    const counts = await Promise.all(sw.nodes.map((n) => n.docker('ps', '-aq', '--filter', 'label=com.docker.swarm.service.name=web')));
    return counts.join('\n').split('\n').filter(Boolean).length === 2;
  });
});

test('drain moves tasks off a node; active takes new ones again', async () => {
  await mgr.docker('service', 'scale', '-d', 'web=4');
  await waitFor('4 tasks', async () => total(await placement('web')) === 4);
  await mgr.docker('node', 'update', '--availability', 'drain', 'host2');
  const p = await waitFor('no task on host2', async () => {
    const p = await placement('web');
    return total(p) === 4 && !p.host2 && p;
  });
  expect(p).toEqual({ host0: 2, host1: 2 });
  expect(await mgr.docker('node', 'inspect', 'host2', '--format', '{{.Spec.Availability}}')).toBe('drain');
  await waitFor('host2 runs no web container', async () => (await workers[1].docker('ps', '-q', '--filter', 'label=com.docker.swarm.service.name=web')) === '');
  await mgr.docker('node', 'update', '--availability', 'active', 'host2');
  await mgr.docker('service', 'rm', 'web');
  await waitFor('web gone everywhere', async () => {
    const left = await Promise.all(sw.nodes.map((n) => n.docker('ps', '-aq', '--filter', 'label=com.docker.swarm.service.name=web')));
    return left.every((l) => l === '');
  });
});

test('a global service runs one task per node; constraints narrow it', async () => {
  await create('--name', 'everywhere', '--mode', 'global', 'busybox:latest', 'sleep', '100000');
  await create('--name', 'onworkers', '--mode', 'global', '--constraint', 'node.role==worker', 'busybox:latest', 'sleep', '100000');
  await create('--name', 'onhost1', '--replicas', '2', '--constraint', 'node.hostname==host1', 'busybox:latest', 'sleep', '100000');
  expect(await waitFor('global on 3 nodes', async () => { const p = await placement('everywhere'); return total(p) === 3 && p; })).toEqual({ host0: 1, host1: 1, host2: 1 });
  // pause keeps the running task and takes no new one
  await mgr.docker('node', 'update', '--availability', 'pause', 'host1');
  await create('--name', 'late', '--mode', 'global', 'busybox:latest', 'sleep', '100000');
  expect(await waitFor('late on the two active nodes', async () => { const p = await placement('late'); return total(p) === 2 && p; })).toEqual({ host0: 1, host2: 1 });
  expect(await placement('everywhere')).toEqual({ host0: 1, host1: 1, host2: 1 });
  await mgr.docker('node', 'update', '--availability', 'active', 'host1');
  await waitFor('late on host1 too', async () => total(await placement('late')) === 3);
  await mgr.docker('service', 'rm', 'late');
  expect(await waitFor('global on workers', async () => { const p = await placement('onworkers'); return total(p) === 2 && p; })).toEqual({ host1: 1, host2: 1 });
  expect(await waitFor('both on host1', async () => { const p = await placement('onhost1'); return total(p) === 2 && p; })).toEqual({ host1: 2 });
  expect(await mgr.dockerFails('service', 'create', '--no-resolve-image', '--constraint', 'node.colour==blue', 'busybox:latest')).toContain('invalid constraint');
  await mgr.docker('service', 'rm', 'everywhere', 'onworkers', 'onhost1');
});

test('service create without -d follows the tasks until the service converges; node ps', async () => {
  const out = await mgr.docker('service', 'create', '--no-resolve-image', '--quiet', '--stop-grace-period', '1s', '--name', 'conv', '--replicas', '2', 'busybox:latest', 'sleep', '100000');
  expect(out).toMatch(/^[0-9a-z]{25}$/);
  expect(total(await placement('conv'))).toBe(2);
  const ps = await mgr.docker('node', 'ps', 'self', '--filter', 'desired-state=running', '--format', '{{.Name}} {{.Node}}');
  for (const line of ps.split('\n').filter(Boolean)) expect(line).toMatch(/^conv\.[12] host0$/);
  await mgr.docker('service', 'rm', 'conv');
});

test('secrets are readable in the task and on no disk', async () => {
  const value = `s3cret-${Math.random().toString(36).slice(2)}`;
  const secretId = execFileSync(DOCKER_CLI, ['secret', 'create', 'pw', '-'], { input: value, env: { ...process.env, ...mgr.env } }).toString().trim();
  expect(secretId).toMatch(/^[0-9a-z]{25}$/);
  expect(await mgr.docker('secret', 'ls', '--format', '{{.Name}}')).toBe('pw');
  await create('--name', 'sec', '--secret', 'pw', '--constraint', 'node.hostname==host2', 'busybox:latest', 'sleep', '100000');
  const cid = await waitFor('the task container', async () => (await workers[1].docker('ps', '-q', '--filter', 'label=com.docker.swarm.service.name=sec')) || undefined);
  expect(await workers[1].docker('exec', cid, 'cat', '/run/secrets/pw')).toBe(value);
  // not in any host's disk: data roots, etcd data, overlays (the tmpfs under /run is memory)
  for (const n of sw.nodes) {
    const r = spawnSync('grep', ['-rlF', value, n.host.dir]);
    expect(r.stdout.toString()).toBe('');
  }
  expect(await mgr.dockerFails('secret', 'rm', 'pw')).toContain('in use by the following service: sec');
  await mgr.docker('service', 'rm', 'sec');
  await waitFor('secret removable', async () => (await mgr.docker('secret', 'rm', 'pw')) === 'pw');
});

test('rolling update; a failing update rolls back by itself', async () => {
  await create('--name', 'roll', '--replicas', '3', '--update-parallelism', '1', '--env', 'V=1', 'busybox:latest', 'sleep', '100000');
  await waitFor('3 tasks', async () => total(await placement('roll')) === 3);
  const runningArgs = async () => {
    const tasks = (await api(mgr, 'GET', `/v1.47/tasks?filters=${encodeURIComponent(JSON.stringify({ service: ['roll'], 'desired-state': ['running'] }))}`)).json as any[];
    return tasks.filter((t) => t.Status.State === 'running').map((t) => `${t.Spec.ContainerSpec.Env.join(',')} ${t.Spec.ContainerSpec.Args.join(' ')}`);
  };
  await mgr.docker('service', 'update', '-d', '--env-add', 'V=2', 'roll');
  await waitFor('update completed', async () => (await mgr.docker('service', 'inspect', 'roll', '--format', '{{.UpdateStatus.State}}')) === 'completed');
  await waitFor('3 tasks of the new spec', async () => { const a = await runningArgs(); return a.length === 3 && a.every((x) => x === 'V=2 sleep 100000'); });
  await mgr.docker('service', 'update', '-d', '--update-failure-action', 'rollback', '--args', 'false', 'roll');
  await waitFor('rollback completed', async () => (await mgr.docker('service', 'inspect', 'roll', '--format', '{{.UpdateStatus.State}}')) === 'rollback_completed');
  await waitFor('3 tasks of the old spec', async () => { const a = await runningArgs(); return a.length === 3 && a.every((x) => x === 'V=2 sleep 100000'); });
  expect(await mgr.docker('service', 'inspect', 'roll', '--format', '{{.UpdateStatus.Message}}')).toBe('rollback completed');
  await mgr.docker('service', 'rm', 'roll');
});

test('kill -9 of a worker\'s berthd: its tasks run elsewhere; back up, it drops the stale ones', async () => {
  await create('--name', 'sturdy', '--replicas', '3', 'busybox:latest', 'sleep', '100000');
  await waitFor('3 tasks', async () => { const p = await placement('sturdy'); return total(p) === 3 && Object.keys(p).length === 3; });
  const killedAt = Date.now();
  workers[1].kill9();
  await waitFor('host2 down', async () => (await mgr.docker('node', 'inspect', 'host2', '--format', '{{.Status.State}}')) === 'down');
  const p = await waitFor('3 tasks on host0 and host1', async () => {
    const p = await placement('sturdy');
    return total(p) === 3 && !p.host2 && p;
  });
  const rescheduledMs = Date.now() - killedAt;
  process.stdout.write(`swarm: worker kill -9 -> its tasks running elsewhere in ${rescheduledMs} ms\n`);
  expect(Object.keys(p).sort()).toEqual(['host0', 'host1']);
  // one running task per slot, as the store sees it
  const slots = (await mgr.docker('service', 'ps', 'sturdy', '--filter', 'desired-state=running', '--format', '{{.Name}}')).split('\n');
  expect(new Set(slots).size).toBe(slots.length);
  await workers[1].restart();
  await waitFor('host2 ready again', async () => (await mgr.docker('node', 'inspect', 'host2', '--format', '{{.Status.State}}')) === 'ready');
  await waitFor('host2 stopped its stale task', async () => (await workers[1].docker('ps', '-q', '--filter', 'label=com.docker.swarm.service.name=sturdy')) === '');
  expect(total(await placement('sturdy'))).toBe(3);
  await mgr.docker('service', 'rm', 'sturdy');
});

test('leave: a worker leaves and stops its tasks; the last manager needs --force', async () => {
  await create('--name', 'bye', '--mode', 'global', 'busybox:latest', 'sleep', '100000');
  await waitFor('3 tasks', async () => total(await placement('bye')) === 3);
  await workers[0].docker('swarm', 'leave');
  expect(await workers[0].docker('info', '--format', '{{.Swarm.LocalNodeState}}')).toBe('inactive');
  expect(await workers[0].docker('ps', '-aq', '--filter', 'label=com.docker.swarm.service.name=bye')).toBe('');
  await waitFor('host1 down', async () => (await mgr.docker('node', 'inspect', 'host1', '--format', '{{.Status.State}}')) === 'down');
  await mgr.docker('node', 'rm', 'host1');
  expect(await mgr.dockerFails('swarm', 'leave')).toContain('Removing the last manager erases all current state of the swarm');
  await mgr.docker('swarm', 'leave', '--force');
  expect(await mgr.docker('info', '--format', '{{.Swarm.LocalNodeState}}')).toBe('inactive');
  expect(await mgr.dockerFails('service', 'ls')).toContain('This node is not a swarm manager. Use "docker swarm init"');
});
