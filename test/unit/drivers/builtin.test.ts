import { createServer, type Server } from 'node:net';
import { genericDriver } from '../../../drivers/generic/index.js';
import { localDriver } from '../../../drivers/local/index.js';
import { noneDriver } from '../../../drivers/none/index.js';
import { builtinDrivers, DEFAULT_DRIVER, findDriver } from '../../../drivers/registry.js';
import type { EngineService } from '../../../drivers/driver.js';
import { driverConformance } from '../../conformance/driver.js';

// An engine service that records calls: the local driver maps lifecycle onto it.
const calls: string[] = [];
let running = true;
const engine: EngineService = {
  async start() { calls.push('start'); running = true; },
  async stop() { calls.push('stop'); running = false; },
  async kill() { calls.push('kill'); running = false; },
  async running() { return running; },
};

// The generic driver's state is a TCP dial of the SSH port: give it a real listener.
let sshd: Server;
let port = 0;
beforeAll(async () => {
  sshd = createServer((s) => s.destroy());
  await new Promise<void>((r) => sshd.listen(0, '127.0.0.1', r));
  port = (sshd.address() as { port: number }).port;
});
afterAll(() => sshd.close());

driverConformance(localDriver, { 'local-engine-port': 23999 }, engine);
driverConformance(genericDriver, { 'generic-ip-address': '127.0.0.1', 'generic-ssh-port': 22 }, engine);
driverConformance(noneDriver, { 'none-url': 'tcp://127.0.0.1:2376' }, engine);

test('local is the default driver; unknown names are refused with the list', async () => {
  expect(DEFAULT_DRIVER).toBe('local');
  expect(builtinDrivers().map((d) => d.name)).toEqual(expect.arrayContaining(['local', 'generic', 'none', 'amazonec2', 'virtualbox', 'qemu']));
  expect(builtinDrivers()[0].name).toBe('local');
  await expect(findDriver('nope')).rejects.toThrow(/unknown driver "nope"/);
});

test('each built-in driver, loaded when asked for, is the one its listing describes', async () => {
  for (const info of builtinDrivers()) {
    const f = await findDriver(info.name);
    expect({ name: f.name, description: f.description, flags: f.flags }).toEqual(info);
  }
});

test('generic: Running while the SSH port answers, Stopped when it does not', async () => {
  const d = genericDriver.fromFlags({ IPAddress: '', MachineName: 'g', SSHUser: 'root', SSHPort: 22, SSHKeyPath: '/k', StorePath: '/s', EnginePort: 2376 }, { 'generic-ip-address': '127.0.0.1', 'generic-ssh-port': port });
  expect(await d.state()).toBe('Running');
  await new Promise<void>((r) => sshd.close(() => r()));
  expect(await d.state()).toBe('Stopped');
});

test('local: lifecycle verbs act on the engine service', async () => {
  calls.length = 0;
  const d = localDriver.fromFlags({ IPAddress: '', MachineName: 'l', SSHUser: '', SSHPort: 0, SSHKeyPath: '', StorePath: '/s', EnginePort: 2376 }, { 'local-prefix': '/srv/x/' });
  expect(d.installPrefix()).toBe('/srv/x');
  await d.stop(engine);
  expect(await d.state(engine)).toBe('Stopped');
  await d.restart(engine);
  await d.kill(engine);
  expect(calls).toEqual(['stop', 'stop', 'start', 'kill']);
  expect(() => localDriver.fromFlags({ IPAddress: '', MachineName: 'l', SSHUser: '', SSHPort: 0, SSHKeyPath: '', StorePath: '/s', EnginePort: 2376 }, { 'local-prefix': 'rel/dir' })).toThrow(/must be an absolute path/);
});
