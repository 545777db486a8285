/**
 * Swarm networking across three namespace hosts (1 manager, 2 workers), with the real
 * docker CLI: an overlay network (VXLAN between the hosts), a service's tasks reaching
 * each other by address, by service name (VIP) and tasks.NAME, the ingress routing
 * mesh (a published port answers on every node), host-mode publishing, an attachable
 * overlay for a plain container, and `docker stack deploy`.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { api } from '../../fixtures/daemon.js';
import type { SwarmHosts, SwarmNode } from '../../fixtures/swarmhosts.js';
import { formSwarm, hostsWithBusybox, placement as placementOn, total, waitFor as waitForBound } from './helpers.js';

jest.setTimeout(120_000);

let sw: SwarmHosts;
let mgr: SwarmNode;
let workers: SwarmNode[];

const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>) => waitForBound(what, fn, 45_000, () => sw.nodes.map((n) => n.logs().slice(-1500)).join('\n---\n'));
const placement = (service: string) => placementOn(mgr, service);
const HTTPD = 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www';

/** The running task containers of a service: node, container id, overlay address. */
async function tasksOf(service: string, network: string): Promise<Array<{ node: SwarmNode; cid: string; ip: string }>> {
  const out = [];
  for (const n of sw.nodes) {
    const ids = (await n.docker('ps', '-q', '--filter', `label=com.docker.swarm.service.name=${service}`)).split('\n').filter(Boolean);
    for (const cid of ids) out.push({ node: n, cid, ip: await n.docker('inspect', cid, '--format', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`) });
  }
  return out;
}

function httpGet(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get({ host, port, path: '/', timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(body.trim()) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

const addresses = (nslookup: string) => [...nslookup.matchAll(/Address(?: \d+)?:\s*([\d.]+)(?!:)\s*$/gm)].map((m) => m[1]).filter((ip) => ip !== '127.0.0.11').sort();

beforeAll(async () => {
  sw = await hostsWithBusybox(3);
  [mgr, ...workers] = sw.nodes;
  await formSwarm(sw.nodes);
});

afterAll(async () => {
  await sw?.cleanup();
});

const port = 20000 + Math.floor(Math.random() * 9000);

test('an overlay across nodes: tasks reach each other by address, VIP and tasks.NAME', async () => {
  expect(await mgr.docker('network', 'ls', '--filter', 'name=ingress', '--format', '{{.Name}} {{.Driver}} {{.Scope}}')).toBe('ingress overlay swarm');
  await mgr.docker('network', 'create', '-d', 'overlay', '--attachable', 'ov');
  const net = JSON.parse(await mgr.docker('network', 'inspect', 'ov'))[0];
  expect(net).toMatchObject({ Name: 'ov', Driver: 'overlay', Scope: 'swarm', Attachable: true });
  expect(net.Options['com.docker.network.driver.overlay.vxlanid_list']).toMatch(/^\d+$/);
  await mgr.docker('service', 'create', '-d', '--no-resolve-image', '--stop-grace-period', '1s', '--name', 'web', '--replicas', '3', '--network', 'ov',
    '--publish', `published=${port},target=80`, 'busybox:latest', 'sh', '-c', HTTPD);
  expect(await waitFor('3 tasks, one per node', async () => { const p = await placement('web'); return total(p) === 3 && Object.keys(p).length === 3 && p; })).toEqual({ host0: 1, host1: 1, host2: 1 });
  const tasks = await tasksOf('web', 'ov');
  expect(tasks).toHaveLength(3);
  const [a, b] = [tasks.find((t) => t.node === workers[0])!, tasks.find((t) => t.node === workers[1])!];
  // the workers show the overlay they run tasks on, as a swarm network
  expect(await workers[0].docker('network', 'ls', '--filter', 'name=ov', '--format', '{{.Name}} {{.Scope}}')).toBe('ov swarm');

  // by address, from host1's task to host2's
  const bName = await b.node.docker('exec', b.cid, 'hostname');
  expect(await waitFor('host1 -> host2 by IP', async () => (await a.node.docker('exec', a.cid, 'timeout', '5', 'wget', '-qO-', `http://${b.ip}/`)) === bName)).toBe(true);

  // the service name answers its VIP; the VIP reaches every task
  const svc = JSON.parse(await mgr.docker('service', 'inspect', 'web'))[0];
  const vip = svc.Endpoint.VirtualIPs.find((v: any) => v.NetworkID === net.Id).Addr.split('/')[0];
  expect(addresses(await a.node.docker('exec', a.cid, 'nslookup', 'web'))).toEqual([vip]);
  expect(addresses(await a.node.docker('exec', a.cid, 'nslookup', 'tasks.web'))).toEqual(tasks.map((t) => t.ip).sort());
  const names = new Set(await Promise.all(tasks.map((t) => t.node.docker('exec', t.cid, 'hostname'))));
  const seen = new Set<string>();
  await waitFor('the VIP balances over all 3 tasks', async () => {
    seen.add(await a.node.docker('exec', a.cid, 'timeout', '5', 'wget', '-qO-', 'http://web/'));
    return seen.size === 3;
  });
  expect(seen).toEqual(names);

  // the routing mesh: the published port answers on every node, from tasks on any node
  const mesh = new Set<string>();
  for (const n of sw.nodes) {
    const body = await waitFor(`port ${port} on ${n.name}`, () => httpGet(n.ip, port));
    expect(names.has(body)).toBe(true);
    mesh.add(body);
  }
  await waitFor('the mesh reaches all 3 tasks', async () => {
    for (const n of sw.nodes) mesh.add(await httpGet(n.ip, port));
    return mesh.size === 3;
  });

  // an attachable overlay: a plain container on the manager reaches host2's task by name
  const plain = await mgr.docker('run', '-d', '--network', 'ov', 'busybox:latest', 'sleep', '1000');
  expect(await waitFor('plain container -> tasks by VIP', async () => names.has(await mgr.docker('exec', plain, 'timeout', '5', 'wget', '-qO-', 'http://web/')))).toBe(true);
  expect(await waitFor('task -> plain container', async () => {
    const ip = await mgr.docker('inspect', plain, '--format', '{{(index .NetworkSettings.Networks "ov").IPAddress}}');
    return (await b.node.docker('exec', b.cid, 'ping', '-c', '1', '-W', '2', ip)).includes('1 packets received');
  })).toBe(true);
  await mgr.docker('rm', '-f', plain);
});

test('dnsrr: the name answers the tasks\' addresses, no VIP; bad requests are refused', async () => {
  await mgr.docker('service', 'create', '-d', '--no-resolve-image', '--stop-grace-period', '1s', '--name', 'rr', '--replicas', '2', '--network', 'ov', '--endpoint-mode', 'dnsrr', 'busybox:latest', 'sleep', '100000');
  await waitFor('2 rr tasks', async () => total(await placement('rr')) === 2);
  const rr = await tasksOf('rr', 'ov');
  expect(JSON.parse(await mgr.docker('service', 'inspect', 'rr'))[0].Endpoint.VirtualIPs).toBeUndefined();
  const web = (await tasksOf('web', 'ov')).find((t) => t.node === workers[0])!;
  expect(await waitFor('rr resolves to its tasks', async () => {
    const got = addresses(await web.node.docker('exec', web.cid, 'nslookup', 'rr'));
    return got.length === 2 && got;
  })).toEqual(rr.map((t) => t.ip).sort());
  await mgr.docker('service', 'rm', 'rr');
  expect(await mgr.dockerFails('service', 'create', '--no-resolve-image', '--publish', `${port}:80`, 'busybox:latest')).toContain(`port '${port}' is already in use by service 'web'`);
  expect(await mgr.dockerFails('service', 'create', '--no-resolve-image', '--network', 'nosuchnet', 'busybox:latest')).toContain('nosuchnet');
  expect(await workers[0].dockerFails('network', 'create', '-d', 'overlay', 'fromworker')).toContain('Worker nodes can\'t be used');
});

test('host-mode publishing binds only where a task runs', async () => {
  const hostPort = port + 1;
  await mgr.docker('service', 'create', '-d', '--no-resolve-image', '--stop-grace-period', '1s', '--name', 'local', '--constraint', 'node.hostname==host2',
    '--publish', `mode=host,published=${hostPort},target=80`, 'busybox:latest', 'sh', '-c', HTTPD);
  await waitFor('the task', async () => total(await placement('local')) === 1);
  const cid = await workers[1].docker('ps', '-q', '--filter', 'label=com.docker.swarm.service.name=local');
  const hostname = await workers[1].docker('exec', cid, 'hostname');
  expect(await waitFor('host2 answers', () => httpGet(workers[1].ip, hostPort))).toBe(hostname);
  await expect(httpGet(workers[0].ip, hostPort)).rejects.toThrow();
  await mgr.docker('service', 'rm', 'local');
});

test('docker stack deploy: overlay network, secret, services that find each other by name; stack rm', async () => {
  const dir = sw.hosts.hosts[0].dir;
  writeFileSync(join(dir, 'pw.txt'), 'stack-secret');
  writeFileSync(join(dir, 'stack.yml'), [
    'version: "3.8"',
    'services:',
    '  srv:',
    '    image: busybox:latest',
    `    command: ["sh", "-c", "${HTTPD}"]`,
    '    deploy: { replicas: 2 }',
    '  cli:',
    '    image: busybox:latest',
    '    command: ["sleep", "100000"]',
    '    secrets: [pw]',
    'secrets:',
    '  pw: { file: ./pw.txt }',
    '',
  ].join('\n'));
  const out = execFileSync('/usr/local/bin/docker', ['stack', 'deploy', '--resolve-image', 'never', '-c', join(dir, 'stack.yml'), 'st'], { env: { ...process.env, ...mgr.env }, cwd: dir }).toString();
  expect(out).toContain('Creating network st_default');
  expect(await mgr.docker('network', 'inspect', 'st_default', '--format', '{{.Driver}} {{.Scope}} {{index .Labels "com.docker.stack.namespace"}}')).toBe('overlay swarm st');
  expect(await mgr.docker('stack', 'ls', '--format', '{{.Name}} {{.Services}}')).toBe('st 2');
  await waitFor('stack services converge', async () => (await mgr.docker('stack', 'services', 'st', '--format', '{{.Name}} {{.Replicas}}')).split('\n').sort().join(',') === 'st_cli 1/1,st_srv 2/2');
  expect((await mgr.docker('stack', 'ps', 'st', '--filter', 'desired-state=running', '--format', '{{.Name}}')).split('\n').sort()).toEqual(['st_cli.1', 'st_srv.1', 'st_srv.2']);
  const cliTask = (await tasksOf('st_cli', 'st_default'))[0];
  expect(await cliTask.node.docker('exec', cliTask.cid, 'cat', '/run/secrets/pw')).toBe('stack-secret');
  await waitFor('cli -> srv by its short name', async () => (await cliTask.node.docker('exec', cliTask.cid, 'timeout', '5', 'wget', '-qO-', 'http://srv/')).length > 0);
  await mgr.docker('stack', 'rm', 'st');
  await waitFor('stack gone', async () => (await mgr.docker('stack', 'ls', '--format', '{{.Name}}')) === '' && (await mgr.docker('network', 'ls', '-q', '--filter', 'name=st_default')) === '');
});

test('removing the service and network leaves no overlay device behind', async () => {
  await mgr.docker('service', 'rm', 'web');
  await waitFor('web gone everywhere', async () => (await Promise.all(sw.nodes.map((n) => n.docker('ps', '-aq', '--filter', 'label=com.docker.swarm.service.name=web')))).every((l) => l === ''));
  // (the CLI asks for a confirmation first: the API directly)
  const ing = await api(mgr, 'DELETE', '/v1.47/networks/ingress');
  expect([ing.status, String(ing.body)]).toEqual([403, expect.stringContaining('ingress network cannot be removed')]);
  await mgr.docker('network', 'rm', 'ov');
  // only the ingress network's VXLAN device is left on each node
  await waitFor('one vxlan device per node', async () => {
    const counts = sw.hosts.hosts.map((h) => execFileSync('ip', ['netns', 'exec', h.ns, 'ip', '-o', 'link', 'show', 'type', 'vxlan']).toString().split('\n').filter(Boolean).length);
    return counts.every((c) => c === 1);
  });
});
