/**
 * Swarm operations on three namespace hosts (one manager, two workers at first), with
 * the real docker CLI: service and task logs gathered from every node (follow too),
 * promote and demote (etcd members added and removed), etcd RBAC (a worker's
 * certificate cannot write outside its own keys nor read secrets), placement
 * preferences, start-first updates and a CA rotation.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jest } from '@jest/globals';
import { Etcd3 } from 'etcd3';
import { api } from '../../fixtures/daemon.js';
import { DOCKER_CLI } from '../../fixtures/docker-cli.js';
import type { SwarmHosts, SwarmNode } from '../../fixtures/swarmhosts.js';
import { formSwarm, hostsWithBusybox, placement as placementOn, total, waitFor as waitForBound } from './helpers.js';

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
  sw = await hostsWithBusybox(3);
  [mgr, ...workers] = sw.nodes;
  await formSwarm(sw.nodes);
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

test('etcd RBAC: a worker\'s certificate reads what its agent needs and writes only its own heartbeat', async () => {
  const value = `hush-${Math.random().toString(36).slice(2)}`;
  const secretId = execFileSync(DOCKER_CLI, ['secret', 'create', 'rbacpw', '-'], { input: value, env: { ...process.env, ...mgr.env } }).toString().trim();
  await create('--name', 'guarded', '--secret', 'rbacpw', '--constraint', 'node.hostname==host1', 'busybox:latest', 'sleep', '100000');
  const cid = await waitFor('the task on host1', async () => (await workers[0].docker('ps', '-q', '--filter', 'label=com.docker.swarm.service.name=guarded')) || undefined);
  // host1's agent wrote its task's status through a manager: the service converged
  await waitFor('guarded 1/1', async () => (await mgr.docker('service', 'ls', '--filter', 'name=guarded', '--format', '{{.Replicas}}')) === '1/1');
  expect(await workers[0].docker('exec', cid, 'cat', '/run/secrets/rbacpw')).toBe(value);
  const id1 = await nodeId('host1');
  const w = await etcdAs(workers[1]);
  try {
    const tasks = await w.getAll().prefix('/berth/swarm/tasks/').keys();
    expect(tasks.length).toBeGreaterThan(0);
    expect(await w.getAll().prefix('/berth/swarm/nodes/').keys()).toHaveLength(3);
    // no secret, not even sealed; no join tokens
    await expect(w.get(`/berth/swarm/secrets/${secretId}`).string()).rejects.toThrow(/permission denied/);
    await expect(w.getAll().prefix('/berth/swarm/secrets/').keys()).rejects.toThrow(/permission denied/);
    await expect(w.get('/berth/swarm/cluster/swarm').string()).rejects.toThrow(/permission denied/);
    // no writes but its own heartbeat
    await expect(w.put('/berth/swarm/services/evil').value('{}').exec()).rejects.toThrow(/permission denied/);
    await expect(w.put(tasks[0]).value('{}').exec()).rejects.toThrow(/permission denied/);
    await expect(w.put(`/berth/swarm/alive/${id1}`).value('"x"').exec()).rejects.toThrow(/permission denied/);
    await expect(w.delete().key('/berth/swarm/leader').exec()).rejects.toThrow(/permission denied/);
  } finally {
    w.close();
  }
  await mgr.docker('service', 'rm', 'guarded');
  await waitFor('secret removable', async () => (await mgr.docker('secret', 'rm', 'rbacpw')) === 'rbacpw');
});

test('placement preferences spread over a label\'s values; a start-first update stops the old task once the new one runs', async () => {
  await mgr.docker('node', 'update', '--label-add', 'zone=a', 'host1');
  await mgr.docker('node', 'update', '--label-add', 'zone=a', 'host2');
  await mgr.docker('node', 'update', '--label-add', 'zone=b', 'host0');
  await create('--name', 'zoned', '--replicas', '4', '--placement-pref', 'spread=node.labels.zone', 'busybox:latest', 'sleep', '100000');
  expect(await waitFor('4 tasks', async () => { const p = await placement('zoned'); return total(p) === 4 && p; })).toEqual({ host0: 2, host1: 1, host2: 1 });
  expect(await mgr.dockerFails('service', 'create', '--no-resolve-image', '--placement-pref', 'spread=node.colour', 'busybox:latest')).toContain('invalid placement preference');
  await mgr.docker('service', 'rm', 'zoned');

  await create('--name', 'sf', '--update-order', 'start-first', '--constraint', 'node.hostname==host1', 'busybox:latest', 'sleep', '100000');
  await waitFor('1 task', async () => total(await placement('sf')) === 1);
  await mgr.docker('service', 'update', '-d', '--env-add', 'V=2', 'sf');
  await waitFor('update completed', async () => (await mgr.docker('service', 'inspect', 'sf', '--format', '{{.UpdateStatus.State}}')) === 'completed');
  const tasks = await waitFor('old task shut down', async () => {
    const ts = (await api(mgr, 'GET', `/v1.47/tasks?filters=${encodeURIComponent(JSON.stringify({ service: ['sf'] }))}`)).json as any[];
    return ts.length === 2 && ts.some((t) => t.Status.State === 'shutdown') && ts;
  });
  const old = tasks.find((t) => !t.Spec.ContainerSpec.Env)!;
  const replacement = tasks.find((t) => t.Spec.ContainerSpec.Env?.includes('V=2'))!;
  expect(replacement.Status.State).toBe('running');
  // the old task was stopped only after its replacement ran (stop-first is the other way round)
  expect(Date.parse(old.Status.Timestamp)).toBeGreaterThanOrEqual(Date.parse(replacement.Status.Timestamp));
  expect(JSON.parse(await mgr.docker('service', 'inspect', 'sf', '--format', '{{json .Spec.UpdateConfig}}')).Order).toBe('start-first');
  await mgr.docker('service', 'rm', 'sf');
});

/** etcd as one node's certificate sees it (its CN is its etcd user once RBAC is on). */
async function etcdAs(node: SwarmNode, endpoint: SwarmNode = mgr): Promise<Etcd3> {
  const certs = join(node.host.dir, 'berth-data', 'swarm', 'certs');
  return new Etcd3({
    hosts: `https://${endpoint.ip}:2379`, dialTimeout: 5000,
    credentials: { rootCertificate: readFileSync(join(certs, 'ca.pem')), certChain: readFileSync(join(certs, 'node.pem')), privateKey: readFileSync(join(certs, 'node-key.pem')) },
  });
}

async function memberNames(): Promise<string[]> {
  const c = await etcdAs(mgr);
  try {
    return (await c.cluster.memberList({})).members.map((m) => m.name).sort();
  } finally {
    c.close();
  }
}

const nodeId = (name: string) => mgr.docker('node', 'inspect', '--format', '{{.ID}}', name);
const managerStatus = async () => (await mgr.docker('node', 'ls', '--format', '{{.Hostname}} {{.ManagerStatus}}')).split('\n').map((l) => l.trim()).sort();

test('swarm ca --rotate: a new CA, a new certificate on every node, the old certificates refused', async () => {
  const certsOf = (n: SwarmNode) => join(n.host.dir, 'berth-data', 'swarm', 'certs');
  const read = (n: SwarmNode, f: string) => readFileSync(join(certsOf(n), f), 'utf8');
  const old = { cert: read(workers[1], 'node.pem'), key: read(workers[1], 'node-key.pem') };
  const inspect = async () => (await api(mgr, 'GET', '/v1.47/swarm')).json as any;
  const oldRoot = (await inspect()).TLSInfo.TrustRoot;
  const token = await mgr.docker('swarm', 'join-token', '-q', 'worker');
  await mgr.docker('swarm', 'ca', '--rotate', '-d');
  const root: string = await waitForBound('rotation done', async () => { const s = await inspect(); return !s.RootRotationInProgress && s.TLSInfo.TrustRoot !== oldRoot && s.TLSInfo.TrustRoot; }, 60_000,
    () => sw.nodes.map((n) => `${n.name}:\n${n.logs().split('\n').filter((l) => /swarm/.test(l)).slice(-15).join('\n')}`).join('\n'));
  const fp = new X509Certificate(root).fingerprint256;
  await waitFor('every node trusts the new CA only', async () => sw.nodes.every((n) => {
    const ca = read(n, 'ca.pem');
    return ca.split('BEGIN CERTIFICATE').length === 2 && new X509Certificate(ca).fingerprint256 === fp;
  }));
  for (const n of sw.nodes) expect(new X509Certificate(read(n, 'node.pem')).verify(new X509Certificate(root).publicKey)).toBe(true);
  expect(await mgr.docker('swarm', 'join-token', '-q', 'worker')).not.toBe(token);
  // a certificate of the old CA is refused by etcd and by the control port
  const c = new Etcd3({ hosts: `https://${mgr.ip}:2379`, dialTimeout: 3000, credentials: { rootCertificate: Buffer.from(root), certChain: Buffer.from(old.cert), privateKey: Buffer.from(old.key) } });
  try {
    await expect(c.get('/berth/swarm/ping').string()).rejects.toThrow();
  } finally {
    c.close();
  }
  const status = await new Promise<number>((resolve, reject) => {
    const req = httpsRequest({ host: mgr.ip, port: 2377, path: '/renew', method: 'POST', ca: root, cert: old.cert, key: old.key, checkServerIdentity: () => undefined }, (res) => { res.resume(); resolve(res.statusCode!); });
    req.on('error', reject);
    req.end('{}');
  });
  expect(status).toBe(401);
  // and the swarm works on
  await create('--name', 'after', '--replicas', '3', 'busybox:latest', 'sleep', '100000');
  await waitFor('3 tasks, one per node', async () => { const p = await placement('after'); return total(p) === 3 && Object.keys(p).length === 3; });
  await mgr.docker('service', 'rm', 'after');
});

test('promote and demote: the etcd members follow the role; the quorum and the last manager are kept', async () => {
  const [id0, id1, id2] = await Promise.all(['host0', 'host1', 'host2'].map(nodeId));
  await create('--name', 'stay', '--mode', 'global', 'busybox:latest', 'sleep', '100000');
  await waitFor('3 tasks', async () => total(await placement('stay')) === 3);
  const onHost1 = () => workers[0].docker('ps', '-q', '--filter', 'label=com.docker.swarm.service.name=stay');
  const before = await onHost1();

  expect(await mgr.docker('node', 'promote', 'host1')).toContain('Node host1 promoted to a manager in the swarm.');
  await waitFor('host1 a reachable manager', async () => (await managerStatus()).includes('host1 Reachable'));
  await waitFor('host1 answers as a manager', async () => (await workers[0].docker('info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}')) === 'active true');
  expect((await workers[0].docker('node', 'ls', '-q')).split('\n')).toHaveLength(3);
  expect(await memberNames()).toEqual([id0, id1].sort());
  expect(await onHost1()).toBe(before);

  await mgr.docker('node', 'promote', 'host2');
  await waitFor('host2 a reachable manager', async () => (await managerStatus()).includes('host2 Reachable'));
  expect(await memberNames()).toEqual([id0, id1, id2].sort());

  // host2's berthd dies (its etcd member lives on): demoting host1 would leave one live manager of two
  workers[1].kill9();
  await waitFor('host2 down', async () => (await mgr.docker('node', 'inspect', 'host2', '--format', '{{.Status.State}}')) === 'down');
  expect(await mgr.dockerFails('node', 'demote', 'host1')).toContain('can\'t remove member from the raft: this would result in a loss of quorum');
  await workers[1].restart();
  await waitFor('host2 ready', async () => (await mgr.docker('node', 'inspect', 'host2', '--format', '{{.Status.State}}')) === 'ready');

  expect(await mgr.docker('node', 'demote', 'host1')).toContain('Manager host1 demoted in the swarm.');
  await waitFor('host1 a worker again', async () => (await workers[0].docker('info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}')) === 'active false');
  expect(await workers[0].dockerFails('node', 'ls')).toContain('Worker nodes can\'t be used to view or modify cluster state');
  await waitFor('host1 no etcd member', async () => JSON.stringify(await memberNames()) === JSON.stringify([id0, id2].sort()));
  expect(existsSync(join(workers[0].host.dir, 'berth-data', 'swarm', 'certs', 'ca-key.pem'))).toBe(false);
  expect(existsSync(join(workers[0].host.dir, 'berth-data', 'swarm', 'etcd'))).toBe(false);
  const w = await etcdAs(workers[0]);
  try {
    await expect(w.put('/berth/swarm/services/evil').value('{}').exec()).rejects.toThrow(/permission denied/);
  } finally {
    w.close();
  }

  await mgr.docker('node', 'demote', 'host2');
  await waitFor('one manager', async () => JSON.stringify(await managerStatus()) === JSON.stringify(['host0 Leader', 'host1', 'host2']));
  await waitFor('host2 no etcd member', async () => JSON.stringify(await memberNames()) === JSON.stringify([id0]));
  expect(await mgr.dockerFails('node', 'demote', 'host0')).toContain('attempting to demote the last manager of the swarm');
  expect(await onHost1()).toBe(before);
  // host2's task, shut down while its berthd was dead, is back
  await waitFor('3 tasks again', async () => total(await placement('stay')) === 3);
  await mgr.docker('service', 'rm', 'stay');
});
