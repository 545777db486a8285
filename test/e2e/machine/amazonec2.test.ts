/**
 * `machine create -d amazonec2` end to end through the real SDK against moto_server.
 * The instances moto "runs" get addresses in a subnet whose CIDR is the sshhosts
 * bridge; the test brings a namespace SSH host up at the private address moto gave
 * each one (and lets in the key the instance was launched with, as cloud-init
 * would), so provisioning, env and the docker CLI work on it for real.
 * Nothing here connects to any address outside loopback and the test's bridge.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeKeyPairsCommand, ImportKeyPairCommand, type Instance } from '@aws-sdk/client-ec2';
import { startMoto, type Moto } from '../../fixtures/moto.js';
import { startSshHosts, type SshHosts } from '../../fixtures/sshhosts.js';
import { berth, berthAsync, berthBin, requireDockerCli, sh, startRegistry, tempDir, removeTempDirs, type Run } from './helpers.js';

import { jest } from '@jest/globals';

jest.setTimeout(180_000);

let f: SshHosts;
let moto: Moto;
let reg: Awaited<ReturnType<typeof startRegistry>>;
let subnetId = '';
const store = tempDir('berth-ec2-store-');
const dockerConfig = tempDir('berth-ec2-docker-');
let env: NodeJS.ProcessEnv;
const BERTH = join(process.cwd(), 'bin', 'berth');

const createArgs = (name: string, extra: string[] = [], group = 'berth-e2e') => ['machine', 'create', '-d', 'amazonec2', '--amazonec2-endpoint', moto.endpoint,
  '--amazonec2-subnet-id', subnetId, '--amazonec2-use-private-address', '--amazonec2-ssh-user', 'root', '--amazonec2-ami', 'ami-785db401',
  '--amazonec2-security-group', group, '--engine-insecure-registry', reg.host, ...extra, name];

beforeAll(async () => {
  requireDockerCli();
  [f, moto] = await Promise.all([startSshHosts(0), startMoto()]);
  reg = await startRegistry(f.subnet.replace(/\.0\/24$/, '.1'));
  subnetId = (await moto.vpcWithSubnet(f.subnet)).subnetId;
  env = { ...moto.env, BERTH_STORAGE_PATH: store, DOCKER_CONFIG: dockerConfig, DOCKER_HOST: '', DOCKER_TLS_VERIFY: '', DOCKER_CERT_PATH: '', BERTH: BERTH };
});
afterAll(() => {
  reg?.stop();
  moto?.stop();
  f?.cleanup();
  removeTempDirs();
});

/**
 * Plays the instance's boot: once moto runs the machine's instance, an SSH host comes
 * up at its private address and accepts the public key of the key pair it names.
 */
async function bootInstance(name: string): Promise<Instance> {
  for (;;) {
    const [inst] = await moto.liveInstances(name);
    if (inst?.State?.Name === 'running' && inst.PrivateIpAddress) {
      expect(inst.PrivateIpAddress.startsWith(f.subnet.replace(/0\/24$/, ''))).toBe(true);
      const kp = await moto.client().send(new DescribeKeyPairsCommand({ KeyNames: [inst.KeyName!], IncludePublicKey: true }));
      const pub = kp.KeyPairs?.[0]?.PublicKey;
      if (pub) f.authorize(pub);
      await f.addHost(inst.PrivateIpAddress);
      return inst;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('create: an imported key and a named key pair, two machines at once, provisioned over SSH', async () => {
  // The second machine launches with a key pair the user already has in EC2.
  await moto.client().send(new ImportKeyPairCommand({ KeyName: 'user-key', PublicKeyMaterial: readFileSync(`${f.keyPath}.pub`) }));
  const runs = Promise.all([
    berthAsync(createArgs('e1'), env),
    berthAsync(createArgs('e2', ['--amazonec2-keypair-name', 'user-key', '--amazonec2-ssh-keypath', f.keyPath, '--amazonec2-tags', 'team,web']), env),
  ]);
  const [i1, i2] = await Promise.all([bootInstance('e1'), bootInstance('e2')]);
  const [a, b] = await runs;
  expect({ code: a.code, stderr: a.stderr }).toEqual({ code: 0, stderr: '' });
  expect({ code: b.code, stderr: b.stderr }).toEqual({ code: 0, stderr: '' });
  expect(i1.KeyName).toMatch(/^berth-e1-/);
  expect(i2.KeyName).toBe('user-key');
  expect(i2.Tags).toEqual(expect.arrayContaining([{ Key: 'team', Value: 'web' }, { Key: 'Name', Value: 'e2' }]));
  const cfg = JSON.parse(readFileSync(join(store, 'machines', 'e1', 'config.json'), 'utf8'));
  expect(cfg.DriverName).toBe('amazonec2');
  expect(cfg.Driver.InstanceId).toBe(i1.InstanceId);
  expect(cfg.Driver.IPAddress).toBe(i1.PrivateIpAddress);
});

test('env points the real docker CLI at each instance over mTLS; docker run works', () => {
  for (const name of ['e1', 'e2']) {
    const r = sh(`set -e; eval $("$BERTH" machine env ${name}); echo "$DOCKER_HOST"; docker pull -q ${reg.image} >/dev/null; docker run --rm ${reg.image} echo hello-${name}`, env);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(new RegExp(`^tcp://10\\.213\\.\\d+\\.\\d+:2376\\nhello-${name}\\n$`));
  }
});

test('status, stop, start, kill follow the EC2 instance; the engine answers after start', async () => {
  expect(berth(['machine', 'status', 'e1'], env).stdout).toBe('Running\n');
  expect(berth(['machine', 'stop', 'e1'], env).code).toBe(0);
  expect((await moto.liveInstances('e1'))[0].State?.Name).toBe('stopped');
  expect(berth(['machine', 'status', 'e1'], env).stdout).toBe('Stopped\n');
  const start = berth(['machine', 'start', 'e1'], env);
  expect({ code: start.code, stderr: start.stderr }).toEqual({ code: 0, stderr: '' });
  expect((await moto.liveInstances('e1'))[0].State?.Name).toBe('running');
  const r = sh('set -e; eval $("$BERTH" machine env e1); docker info --format "{{.Name}}" >/dev/null && echo ok', env);
  expect(r.stdout).toBe('ok\n');
  expect(berth(['machine', 'kill', 'e1'], env).code).toBe(0);
  expect(berth(['machine', 'status', 'e1'], env).stdout).toBe('Stopped\n');
  const ls = berth(['machine', 'ls', '--format', '{{.Name}} {{.DriverName}} {{.State}}'], env);
  expect(ls.stdout).toBe('e1 amazonec2 Stopped\ne2 amazonec2 Running\n');
});

test('env follows the address EC2 reports: a stale stored address gets a new server cert for the live one', () => {
  // As after a stop/start on a public address: the record still has the old one.
  const cfgPath = join(store, 'machines', 'e2', 'config.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
  const live = cfg.Driver.IPAddress;
  const serial = () => sh(`openssl x509 -noout -serial -in ${store}/machines/e2/server.pem`).stdout;
  const before = serial();
  writeFileSync(cfgPath, JSON.stringify({ ...cfg, Driver: { ...cfg.Driver, IPAddress: f.freeIp() } }));
  const r = sh('set -e; eval $("$BERTH" machine env e2); echo $DOCKER_HOST; docker info --format "{{.Name}}" >/dev/null && echo ok', env);
  expect(r.stdout).toBe(`tcp://${live}:2376\nok\n`);
  expect(serial()).not.toBe(before);
  expect(JSON.parse(readFileSync(cfgPath, 'utf8')).Driver.IPAddress).toBe(live);
});

test('rm terminates the instances and deletes the imported key pair; the user key and the group stay', async () => {
  const r = berth(['machine', 'rm', '-y', 'e1', 'e2'], env);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  expect(await moto.liveInstances()).toEqual([]);
  expect(await moto.keyPairs()).toEqual(['user-key']);
  expect(await moto.groups()).toContain('berth-e2e');
  expect(berth(['machine', 'ls', '-q'], env).stdout).toBe('');
  // The "instances" are gone: their addresses are free for the next ones moto hands out.
  for (const h of f.hosts) {
    h.kill();
    execFileSync('ip', ['-n', h.ns, 'addr', 'flush', 'dev', 'eth0']);
  }
});

test('an instance whose SSH never answers: create fails and leaves nothing behind', async () => {
  const r = berth(createArgs('e3', [], 'berth-e3'), { ...env, BERTH_SSH_TIMEOUT: '2' });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/SSH on 10\.213\.\d+\.\d+:22/);
  expect(await moto.liveInstances('e3')).toEqual([]);
  expect(await moto.keyPairs()).toEqual(['user-key']);
  expect(await moto.groups()).not.toContain('berth-e3');
  expect(berth(['machine', 'ls', '-q'], env).stdout).toBe('');
});

/** A create whose process the test can signal. */
function spawnCreate(name: string, extraEnv: NodeJS.ProcessEnv = {}): { pid: number; done: Promise<Run> } {
  const child = spawn(berthBin(), createArgs(name), { env: { ...process.env, ...env, ...extraEnv } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => { stdout += c; });
  child.stderr.on('data', (c) => { stderr += c; });
  return { pid: child.pid!, done: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr }))) };
}

async function running(name: string): Promise<Instance> {
  for (;;) {
    const [inst] = await moto.liveInstances(name);
    if (inst?.State?.Name === 'running') return inst;
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('kill -9 of create after the instance was made: create again takes that instance over and finishes', async () => {
  const first = spawnCreate('k1');
  const inst = await running('k1');
  process.kill(first.pid, 'SIGKILL');
  await first.done;
  await bootInstance('k1');
  const again = await berthAsync(createArgs('k1'), env);
  expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 0, stderr: '' });
  const live = await moto.liveInstances('k1');
  expect(live.map((i) => i.InstanceId)).toEqual([inst.InstanceId]);
  expect(existsSync(join(store, 'machines', 'k1', 'creating.json'))).toBe(false);
  const r = sh('set -e; eval $("$BERTH" machine env k1); docker info --format "{{.Name}}" >/dev/null && echo ok', env);
  expect(r.stdout).toBe('ok\n');
  expect(berth(['machine', 'rm', '-y', 'k1'], env).code).toBe(0);
  expect(await moto.liveInstances('k1')).toEqual([]);
  expect(await moto.keyPairs()).toEqual(['user-key']);
});

test('Ctrl-C once the instance is up: the machine is kept half-made; rm -f removes the instance and its key pair', async () => {
  const c = spawnCreate('c1', { BERTH_SSH_TIMEOUT: '30' });
  // Interrupted while it waits for SSH on an instance that never answers.
  await running('c1');
  process.kill(c.pid, 'SIGINT');
  const r = await c.done;
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/interrupted \(SIGINT\)/);
  expect((await moto.liveInstances('c1')).length).toBe(1);
  expect(berth(['machine', 'rm', '-y', '-f', 'c1'], env).code).toBe(0);
  expect(await moto.liveInstances('c1')).toEqual([]);
  expect(await moto.keyPairs()).toEqual(['user-key']);
  expect(berth(['machine', 'ls', '-q'], env).stdout).toBe('');
});
