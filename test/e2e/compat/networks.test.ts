/**
 * Networks as dockerd shows them: Options only as given (docker-compose decides on a
 * recreate by comparing them), IPAM.Options, endpoint settings, disconnect errors.
 */
import { jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, type Daemon } from '../../fixtures/daemon.js';
import { daemonWithBusybox, docker, ok } from '../containers/fixture.js';

jest.setTimeout(120_000);

const COMPOSE = '/usr/bin/docker-compose';
let d: Daemon;
let dir: string;

beforeAll(async () => {
  if (!existsSync(COMPOSE)) throw new Error(`${COMPOSE} is needed for this test: apt-get install docker-compose`);
  dir = mkdtempSync(join(tmpdir(), 'compat-compose-'));
  d = await daemonWithBusybox();
});

afterAll(async () => {
  if (d) {
    const ids = (await ok(d, ['ps', '-aq'])).split('\n').filter(Boolean);
    if (ids.length) await docker(d, ['rm', '-f', ...ids]);
    await d.stop();
  }
  rmSync(dir, { recursive: true, force: true });
});

function compose(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(COMPOSE, ['-p', 'compat', ...args], { cwd: dir, env: { ...process.env, ...d.env }, timeout: 90_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

describe('docker-compose', () => {
  test('a second `up` of the same project finds its network up to date (no recreate)', async () => {
    writeFileSync(join(dir, 'docker-compose.yml'), [
      'version: "3"',
      'services:',
      '  app:',
      '    image: busybox',
      '    command: sleep 300',
      '    networks: [back]',
      'networks:',
      '  back:',
      '    driver_opts:',
      '      com.docker.network.driver.mtu: "1400"',
      '',
    ].join('\n'));
    const first = await compose(['up', '-d']);
    expect(first.code).toBe(0);
    const second = await compose(['up', '-d']);
    expect(second.out).not.toMatch(/needs to be recreated/);
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/up-to-date/);
    const net = (await api(d, 'GET', '/networks/compat_back')).json;
    expect(net.Options).toEqual({ 'com.docker.network.driver.mtu': '1400' });
    expect(net.IPAM.Options).toBeNull();
    expect((await compose(['down'])).code).toBe(0);
  });
});

describe('networks and endpoints', () => {
  test('a user network shows only the options given; its bridge works all the same', async () => {
    await ok(d, ['network', 'create', '--subnet', '10.231.7.0/24', 'plain-net']);
    const net = (await api(d, 'GET', '/networks/plain-net')).json;
    expect(net.Options).toEqual({});
    const id = await ok(d, ['run', '-d', '--network', 'plain-net', '--ip', '10.231.7.9', '--network-alias', 'al1', 'busybox', 'sleep', '60']);
    const ep = JSON.parse(await ok(d, ['inspect', '-f', '{{json .NetworkSettings.Networks}}', id]))['plain-net'];
    expect(ep.IPAMConfig).toEqual({ IPv4Address: '10.231.7.9' });
    expect(ep.Aliases).toContain('al1');
    expect(ep.IPAddress).toBe('10.231.7.9');
    expect(await ok(d, ['run', '--rm', '--network', 'plain-net', 'busybox', 'ping', '-c', '1', '-W', '2', '10.231.7.9'])).toMatch(/1 packets received/);
    // Its own hostname, given or not, resolves through the embedded DNS to its own address.
    const own = await ok(d, ['run', '--rm', '--network', 'plain-net', '--ip', '10.231.7.20', '--hostname', 'myhost', 'busybox', 'nslookup', 'myhost', '127.0.0.11']);
    expect(own).toMatch(/Address: 10\.231\.7\.20/);
    // Endpoint settings given at connect come back in inspect.
    await ok(d, ['run', '-d', '--name', 'late-joiner', 'busybox', 'sleep', '60']);
    await ok(d, ['network', 'connect', '--driver-opt', 'com.example.opt=1', '--link-local-ip', '169.254.10.10', '--alias', 'late', 'plain-net', 'late-joiner']);
    const late = JSON.parse(await ok(d, ['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'late-joiner']))['plain-net'];
    expect(late.DriverOpts).toEqual({ 'com.example.opt': '1' });
    expect(late.IPAMConfig).toEqual({ LinkLocalIPs: ['169.254.10.10'] });
    expect(late.Aliases).toContain('late');
    await ok(d, ['rm', '-f', 'late-joiner']);
    const notConnected = await ok(d, ['create', 'busybox']);
    const r = await docker(d, ['network', 'disconnect', 'plain-net', notConnected]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/is not connected to (the )?network plain-net/);
    await ok(d, ['rm', '-f', id, notConnected]);
    await ok(d, ['network', 'rm', 'plain-net']);
  });
});
