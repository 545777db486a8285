import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseSettings } from '../../../drivers/driver.js';
import { genericDriver } from '../../../drivers/generic/index.js';
import { newHostConfig } from '../../../src/machine/create.js';
import { withLock } from '../../../src/machine/lock.js';
import { Store, validateName } from '../../../src/machine/store/index.js';

const dirs: string[] = [];
const tmp = () => { const d = mkdtempSync(join(tmpdir(), 'berth-store-test-')); dirs.push(d); return d; };
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function sample(store: Store, name: string) {
  const d = genericDriver.fromFlags(baseSettings(name, store.root, join(store.machineDir(name), 'id_rsa')), { 'generic-ip-address': '10.0.0.7' });
  return newHostConfig(store, name, d, { Labels: ['a=b'] }, ['web.example']);
}

test('config.json keeps paths relative to the store and loads them absolute', async () => {
  const store = new Store(tmp());
  await store.reserve('m1', 'Reserving');
  await store.save(sample(store, 'm1'));
  const disk = JSON.parse(readFileSync(store.configPath('m1'), 'utf8'));
  expect(disk.ConfigVersion).toBe(3);
  expect(disk.Driver.SSHKeyPath).toBe('machines/m1/id_rsa');
  expect(disk.Driver.StorePath).toBe('.');
  expect(disk.HostOptions.AuthOptions.CaCertPath).toBe('certs/ca.pem');
  expect(disk.HostOptions.EngineOptions.Labels).toEqual(['a=b']);
  const host = await store.load('m1');
  expect(host.HostOptions.AuthOptions.ServerCertPath).toBe(join(store.root, 'machines', 'm1', 'server.pem'));
  expect(await store.list()).toEqual(['m1']);
});

test('a store moved to another directory still loads', async () => {
  const a = new Store(tmp());
  await a.reserve('m1', 'Reserving');
  await a.save(sample(a, 'm1'));
  const b = new Store(tmp());
  mkdirSync(b.machineDir('m1'), { recursive: true });
  writeFileSync(b.configPath('m1'), readFileSync(a.configPath('m1')));
  expect((await b.load('m1')).Driver.SSHKeyPath).toBe(join(b.root, 'machines', 'm1', 'id_rsa'));
});

test("a Docker Machine config (absolute paths of its old store, ConfigVersion 3) is rebased", async () => {
  const store = new Store(tmp());
  mkdirSync(store.machineDir('dm'), { recursive: true });
  const old = '/home/someone/.docker/machine';
  writeFileSync(store.configPath('dm'), JSON.stringify({
    ConfigVersion: 3, Name: 'dm', DriverName: 'generic',
    Driver: { IPAddress: '10.0.0.9', SSHUser: 'ubuntu', SSHPort: 22, SSHKeyPath: `${old}/machines/dm/id_rsa`, StorePath: old },
    HostOptions: { EngineOptions: { Labels: [] }, AuthOptions: { CaCertPath: `${old}/certs/ca.pem`, StorePath: `${old}/machines/dm`, ServerCertSANs: [] } },
  }));
  const host = await store.load('dm');
  expect(host.Driver.SSHKeyPath).toBe(join(store.root, 'machines', 'dm', 'id_rsa'));
  expect(host.HostOptions.AuthOptions.CaCertPath).toBe(join(store.root, 'certs', 'ca.pem'));
  expect(host.Driver.EnginePort).toBe(2376);
  expect(host.HostOptions.EngineOptions.TlsVerify).toBe(true);
});

test('older config versions migrate step by step; newer ones are refused', async () => {
  const store = new Store(tmp());
  mkdirSync(store.machineDir('v1'), { recursive: true });
  writeFileSync(store.configPath('v1'), JSON.stringify({ ConfigVersion: 1, Name: 'v1', DriverName: 'generic', DriverOptions: { IPAddress: '1.2.3.4', SSHPort: 22 }, HostOptions: { EngineOptions: {}, AuthOptions: {} } }));
  const host = await store.load('v1');
  expect(host.ConfigVersion).toBe(3);
  expect(host.Driver.IPAddress).toBe('1.2.3.4');
  expect(host.HostOptions.SwarmOptions).toEqual({ IsSwarm: false });
  mkdirSync(store.machineDir('v9'), { recursive: true });
  writeFileSync(store.configPath('v9'), JSON.stringify({ ConfigVersion: 9, Name: 'v9' }));
  await expect(store.load('v9')).rejects.toThrow(/version 9, newer than this berth understands/);
});

test('names follow Docker Machine; reserve refuses a taken name', async () => {
  for (const ok of ['a', 'web-1', 'x.y', '9lives']) expect(() => validateName(ok)).not.toThrow();
  for (const bad of ['', '-a', '.a', 'a_b', 'a b', 'a/b', 'x'.repeat(64)]) expect(() => validateName(bad)).toThrow(/invalid machine name/);
  const store = new Store(tmp());
  await store.reserve('dup', 'Reserving');
  await expect(store.reserve('dup', 'Reserving')).rejects.toThrow(/already exists/);
  await expect(store.load('nope')).rejects.toThrow(/Host does not exist: "nope"/);
});

test('the machine lock serialises work and survives a dead holder', async () => {
  const dir = tmp();
  const order: string[] = [];
  const job = (tag: string) => withLock(join(dir, 'm.lock'), 'm', async () => {
    order.push(`${tag}+`);
    await new Promise((r) => setTimeout(r, 30));
    order.push(`${tag}-`);
  });
  await Promise.all([job('a'), job('b')]);
  expect(order.join(' ')).toMatch(/^(a\+ a- b\+ b-|b\+ b- a\+ a-)$/);
  writeFileSync(join(dir, 'stale.lock'), '999999999');
  await expect(withLock(join(dir, 'stale.lock'), 'm', async () => 'taken over')).resolves.toBe('taken over');
});

test('two creates racing for one name: exactly one reserves it', async () => {
  const store = new Store(tmp());
  const results = await Promise.allSettled([store.reserve('race', 'Reserving'), store.reserve('race', 'Reserving'), store.reserve('race', 'Reserving')]);
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  for (const r of results) if (r.status === 'rejected') expect(String(r.reason)).toMatch(/Host already exists: "race"/);
});

test('reserve puts the marker with its pid in place with the directory; a leftover is taken over only once its creator is gone', async () => {
  const store = new Store(tmp());
  await store.reserve('m', 'Reserving');
  expect(readdirSync(store.machinesDir)).toEqual(['m']);
  expect(JSON.parse(readFileSync(join(store.machineDir('m'), 'creating.json'), 'utf8'))).toEqual({ hostCreated: false, step: 'Reserving', pid: process.pid });
  // What a create in another process, held before its first save, shows.
  const creator = spawn('sleep', ['600']);
  try {
    writeFileSync(join(store.machineDir('m'), 'creating.json'), JSON.stringify({ hostCreated: false, step: 'Reserving', pid: creator.pid }));
    const running = `a create of machine "m" is running (process ${creator.pid}, at "Reserving")`;
    await expect(store.reserve('m', 'Reserving')).rejects.toThrow(running);
    await expect(store.claimUnfinished('m')).rejects.toThrow(running);
    await expect(store.refuseWhileCreating('m')).rejects.toThrow(running);
    expect(readdirSync(store.machineDir('m'))).toEqual(['creating.json']);
  } finally {
    creator.kill('SIGKILL');
  }
  await new Promise((r) => creator.on('exit', r));
  // Its creator gone, the directory is a leftover that the next reservation replaces.
  writeFileSync(join(store.machineDir('m'), 'id_rsa'), 'old key');
  await store.reserve('m', 'Reserving');
  expect(readdirSync(store.machineDir('m'))).toEqual(['creating.json']);
  expect((await store.unfinished('m'))?.pid).toBe(process.pid);
});

test('a reservation killed before its rename is swept; a live one is kept', async () => {
  const store = new Store(tmp());
  mkdirSync(store.machinesDir, { recursive: true });
  const dead = spawnSync('true').pid!;
  mkdirSync(join(store.machinesDir, `.reserving-a.b.${dead}.0a1b2c3d`));
  mkdirSync(join(store.machinesDir, `.reserving-c.${process.pid}.0a1b2c3d`));
  expect(await store.list()).toEqual([]);
  expect(readdirSync(store.machinesDir)).toEqual([`.reserving-c.${process.pid}.0a1b2c3d`]);
});

test('remove renames the machine away first; a removal killed half-way is finished by the next listing', async () => {
  const store = new Store(tmp());
  await store.save(sample(store, 'gone'));
  await store.save(sample(store, 'kept'));
  writeFileSync(join(store.machineDir('gone'), 'id_rsa'), 'secret');
  // What a kill -9 between the rename and the delete leaves.
  const { rename } = await import('node:fs/promises');
  await rename(store.machineDir('gone'), join(store.machinesDir, '.removing-gone-0000'));
  expect(await store.list()).toEqual(['kept']);
  expect(readdirSync(store.machinesDir)).toEqual(['kept']);
  await store.remove('kept');
  await store.remove('kept'); // twice: nothing to do
  expect(readdirSync(store.machinesDir)).toEqual([]);
});

test('a listing removes the lock a killed command left on a machine that is gone, not a live one', async () => {
  const store = new Store(tmp());
  await store.save(sample(store, 'here'));
  mkdirSync(join(store.root, 'locks'));
  const dead = spawnSync('true').pid!;
  writeFileSync(join(store.root, 'locks', 'gone.lock'), String(dead));
  writeFileSync(join(store.root, 'locks', 'busy.lock'), String(process.pid));
  writeFileSync(join(store.root, 'locks', 'here.lock'), String(dead));
  expect(await store.list()).toEqual(['here']);
  // The machine that exists keeps its lock for the next command to take over; a live holder keeps its own.
  expect(readdirSync(join(store.root, 'locks')).sort()).toEqual(['busy.lock', 'here.lock']);
});
