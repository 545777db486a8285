/**
 * `machine create -d virtualbox` against a wire-level fake of vboxwebsrv (no VirtualBox
 * can run here): the driver's own SOAP traffic makes the VM, the fake boots it as a
 * namespace SSH host behind the NAT forward, and the real provisioning, env and docker
 * CLI follow. Every failure path must leave no machine or medium in VirtualBox.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { baseSettings, type EngineService } from '../../../drivers/driver.js';
import { virtualboxDriver } from '../../../drivers/virtualbox/index.js';
import { Vbox } from '../../../drivers/virtualbox/vbox.js';
import { writeSshKey } from '../../../src/machine/sshkey.js';
import { driverConformance } from '../../conformance/driver.js';
import { cleanupAll } from '../../fixtures/cleanup.js';
import { startSshHosts, type SshHosts } from '../../fixtures/sshhosts.js';
import { startFakeVbox, type FakeVbox } from '../../fixtures/vboxwebsrv.js';
import { berth, berthAsync, berthBin, requireDockerCli, startRegistry, tempDir, removeTempDirs, type Run } from './helpers.js';

// The fake vboxwebsrv answers from this process: every berth run that reaches it must not block the event loop.
const run = (args: string[], e: NodeJS.ProcessEnv = env()) => berthAsync(args, e);
function shAsync(script: string, e: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn('/bin/bash', ['-c', script], { env: { ...process.env, ...e } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

jest.setTimeout(180_000);

let f: SshHosts;
let vbox: FakeVbox;
let reg: Awaited<ReturnType<typeof startRegistry>>;
let image = '';
let cidr = '';
const store = tempDir('berth-vbox-store-');
const env = () => ({
  BERTH_STORAGE_PATH: store, DOCKER_CONFIG: tempDir('berth-vbox-docker-'), DOCKER_HOST: '', DOCKER_TLS_VERIFY: '', DOCKER_CERT_PATH: '',
  VIRTUALBOX_WEBSERVICE_URL: vbox.url, VIRTUALBOX_WEBSERVICE_USER: 'berth', VIRTUALBOX_WEBSERVICE_PASSWORD: 's3cret',
});
const createArgs = (name: string, ...extra: string[]) => ['machine', 'create', '-d', 'virtualbox', '--virtualbox-image', image,
  '--virtualbox-hostonly-cidr', cidr, ...(extra.includes('--virtualbox-disk-size') ? [] : ['--virtualbox-disk-size', '2000']), '--engine-insecure-registry', reg.host, ...extra, name];

/** Nothing of the machine is left in VirtualBox, nor in the store. */
function expectGone(name: string): void {
  const s = vbox.state();
  expect(s.machines.map((m) => m.name)).not.toContain(name);
  expect(s.media.filter((m) => m.location.includes(`/machines/${name}/`))).toEqual([]);
  expect(s.sessionsLocked).toBe(0);
  expect(existsSync(join(store, 'machines', name))).toBe(false);
}

beforeAll(async () => {
  requireDockerCli();
  f = await startSshHosts(0);
  cidr = f.subnet.replace(/\.0\/24$/, '.1/24');
  vbox = await startFakeVbox({
    auth: { user: 'berth', password: 's3cret' }, guests: f, boots: (n) => !n.startsWith('silent'),
    networksConf: [f.subnet], freeSpaceMb: 100_000,
  });
  reg = await startRegistry(f.subnet.replace(/\.0\/24$/, '.1'));
  // The fake boots no image: a small qcow2 stands for the Debian one (converted to VDI on first use).
  image = join(tempDir('berth-vbox-image-'), 'tiny.qcow2');
  spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, '64M']);
});
afterAll(() => cleanupAll({
  // The fake first: it waits for the guests it is booting, so the SSH-host fixture then removes them too.
  'fake vboxwebsrv': () => vbox?.stop(),
  registry: () => reg?.stop(),
  'SSH hosts (bridge and namespaces)': () => f?.cleanup(),
  'temp dirs': removeTempDirs,
}));

test('create --help lists every virtualbox flag with its env var and default', () => {
  const r = berth(['machine', 'create', '-d', 'virtualbox', '--help'], { OCLIF_COLUMNS: '250' });
  expect(r.code).toBe(0);
  for (const flag of virtualboxDriver.flags) {
    const line = r.stdout.split('\n').find((l) => new RegExp(`^\\s+--${flag.name}(=|\\s)`).test(l)) ?? '';
    expect(line).toContain(`env: ${flag.envVar}]`);
    expect(line).toContain(flag.usage);
    if (flag.default !== undefined && flag.default !== '' && flag.default !== false) expect(line).toContain(`[default: ${flag.default}, env:`);
  }
});

test('create makes, boots and provisions the VM; env points the docker CLI at its host-only address', async () => {
  const r = await berthAsync(createArgs('vb0'), env());
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  const cfg = JSON.parse(readFileSync(join(store, 'machines', 'vb0', 'config.json'), 'utf8'));
  expect(cfg.DriverName).toBe('virtualbox');
  const vm = vbox.state().machines.find((m) => m.name === 'vb0')!;
  expect(vm).toMatchObject({ state: 'Running', id: cfg.Driver.VMId, locked: false });
  expect(vm.redirects).toEqual([`ssh:127.0.0.1:${cfg.Driver.SSHPort}->22`]);
  expect(vm.attachments).toEqual([`SATA:0:HardDisk:${join(store, 'machines', 'vb0', 'disk.vdi')}`, `SATA:1:DVD:${join(store, 'machines', 'vb0', 'seed.iso')}`]);
  expect(vbox.state().hostOnly).toEqual([{ name: 'vboxnet0', ip: cidr.split('/')[0] }]);
  expect(cfg.Driver.IPAddress).toBe(f.subnet.replace(/\.0\/24$/, '.101'));
  // The raw/qcow2 image was converted once into the image cache.
  expect(existsSync(join(store, 'cache', 'images'))).toBe(true);

  const r2 = await shAsync(`set -e; eval $("$BERTH" machine env vb0); echo $DOCKER_HOST; docker pull -q ${reg.image} >/dev/null; docker run --rm ${reg.image} echo hello`, { ...env(), BERTH: berthBin() });
  expect(r2.stderr).toBe('');
  expect(r2.stdout).toBe(`tcp://${cfg.Driver.IPAddress}:2376\nhello\n`);
  expect((await run(['machine', 'ls', '--format', '{{.Name}} {{.DriverName}} {{.State}}'])).stdout).toBe('vb0 virtualbox Running\n');
});

test('stop presses the power button, start boots it again with its engine, kill powers it off', async () => {
  expect((await run(['machine', 'stop', 'vb0'])).code).toBe(0);
  expect(vbox.state().machines.find((m) => m.name === 'vb0')!.state).toBe('PoweredOff');
  expect((await run(['machine', 'status', 'vb0'])).stdout).toBe('Stopped\n');
  const start = await run(['machine', 'start', 'vb0']);
  expect({ code: start.code, stderr: start.stderr }).toEqual({ code: 0, stderr: '' });
  const r = await shAsync(`set -e; eval $("$BERTH" machine env vb0); docker run --rm ${reg.image} echo again`, { ...env(), BERTH: berthBin() });
  expect(r.stdout).toBe('again\n');
  expect((await run(['machine', 'kill', 'vb0'])).code).toBe(0);
  expect(vbox.state().machines.find((m) => m.name === 'vb0')!.state).toBe('PoweredOff');
});

test('rm deletes the VM, its disk and its seed from VirtualBox', async () => {
  const disk = join(store, 'machines', 'vb0', 'disk.vdi');
  expect((await run(['machine', 'rm', '-y', 'vb0'])).code).toBe(0);
  expectGone('vb0');
  expect(existsSync(disk)).toBe(false);
  expect(vbox.state().machines).toEqual([]);
});

describe('failures leave nothing behind', () => {
  test('an unreachable web service: a clear error naming the command that starts it', async () => {
    const r = await run(createArgs('down0'), { ...env(), VIRTUALBOX_WEBSERVICE_URL: 'http://127.0.0.1:9/' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the VirtualBox web service at http:\/\/127\.0\.0\.1:9\/ does not answer/);
    expect(r.stderr).toMatch(/vboxwebsrv --background/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expectGone('down0');
  });

  test('bad credentials are refused before anything is made', async () => {
    const r = await run(createArgs('auth0'), { ...env(), VIRTUALBOX_WEBSERVICE_PASSWORD: 'wrong' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refused the logon of user "berth"/);
    expect(r.stderr).toMatch(/websrvauthlibrary null/);
    expectGone('auth0');
  });

  test('a name VirtualBox already has is refused', async () => {
    // Someone made "dup0" in VirtualBox by other means.
    const other = await Vbox.connect(vbox.url, 'berth', 's3cret');
    const id = await other.createMachine('dup0', 'Debian_64', async () => undefined);
    try {
      const r = await run(createArgs('dup0'));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/VirtualBox already has a machine named "dup0"/);
      expect(existsSync(join(store, 'machines', 'dup0'))).toBe(false);
      expect(vbox.state().machines.map((m) => m.name)).toEqual(['dup0']);
    } finally {
      await other.deleteMachine(id);
      await other.close();
    }
    expect(vbox.state().machines).toEqual([]);
  });

  test('a disk VirtualBox cannot make: the error, and no machine or medium left', async () => {
    const r = await run(createArgs('full0', '--virtualbox-disk-size', '900000'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/creating the disk failed: .*VERR_DISK_FULL/);
    expectGone('full0');
    expect(vbox.state().media.filter((m) => m.type === 'HardDisk' && !m.location.endsWith('.vdi'))).toEqual([]);
  });

  test('a VM that never answers SSH times out and is removed', async () => {
    const r = await run(createArgs('silent0'), { ...env(), BERTH_SSH_TIMEOUT: '4' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/VirtualBox machine "silent0" did not answer SSH on 127\.0\.0\.1:\d+ within 4 s/);
    expectGone('silent0');
  });

  test('Ctrl-C during create removes what was made and exits 130', async () => {
    const child = spawn(berthBin(), createArgs('silent1'), { env: { ...process.env, ...env() } });
    let stderr = '';
    child.stderr.on('data', (c) => { stderr += c; });
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    // Interrupted while the VM boots: it is registered, has its disks and runs.
    const deadline = Date.now() + 60_000;
    while (!vbox.state().machines.some((m) => m.name === 'silent1' && m.state === 'Running') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/interrupted/);
    expectGone('silent1');
  });

  test('a VirtualBox other than 7.0 is named, not misused', async () => {
    const newer = await startFakeVbox({ apiVersion: '7_1' });
    try {
      const r = await run(createArgs('new0'), { ...env(), VIRTUALBOX_WEBSERVICE_URL: newer.url });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/speaks API 7\.1; berth's VirtualBox driver supports VirtualBox 7\.0/);
      expect(newer.state().machines).toEqual([]);
    } finally {
      await newer.stop();
    }
  });

  test('no image and none built: says to run `berth machine image build`', async () => {
    const r = await run(['machine', 'create', '-d', 'virtualbox', '--virtualbox-hostonly-cidr', cidr, 'noimg0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/run `berth machine image build`/);
    expectGone('noimg0');
  });
});

// The shared driver contract, on a VM the driver made (the engine service is recorded, not real).
describe('conformance', () => {
  const calls: string[] = [];
  const engine: EngineService = {
    async start() { calls.push('start'); }, async stop() { calls.push('stop'); },
    async kill() { calls.push('kill'); }, async running() { return true; },
  };
  const flags = () => ({ 'virtualbox-webservice-url': vbox.url, 'virtualbox-webservice-user': 'berth', 'virtualbox-webservice-password': 's3cret', 'virtualbox-image': image, 'virtualbox-hostonly-cidr': cidr, 'virtualbox-no-share': true });
  let made: ReturnType<typeof virtualboxDriver.fromFlags>;
  beforeAll(async () => {
    const dir = tempDir('berth-vbox-conf-');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'machines', 'conf'), { recursive: true });
    await writeSshKey(join(dir, 'machines', 'conf', 'id_rsa'), 'conf');
    made = virtualboxDriver.fromFlags(baseSettings('conf', dir, join(dir, 'machines', 'conf', 'id_rsa')), flags());
    await made.create();
  });
  afterAll(async () => {
    await made?.remove();
    expect(vbox.state().machines).toEqual([]);
  });
  // Lazy: the fake's URL is known only once beforeAll ran.
  driverConformance(virtualboxDriver, new Proxy({}, { get: (_t, k) => (flags() as Record<string, unknown>)[k as string], ownKeys: () => Reflect.ownKeys(flags()), getOwnPropertyDescriptor: (_t, k) => ({ enumerable: true, configurable: true, value: (flags() as Record<string, unknown>)[k as string] }) }), engine);
});
