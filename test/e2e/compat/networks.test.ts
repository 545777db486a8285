/**
 * Networks as dockerd shows them: Options only as given (docker-compose decides on a
 * recreate by comparing them), IPAM.Options, endpoint settings, disconnect errors,
 * IPv6 networks and link-local addresses.
 */
import { jest } from '@jest/globals';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import Docker from 'dockerode';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, type Daemon } from '../../fixtures/daemon.js';
import { daemonWithBusybox, docker, ok } from '../containers/fixture.js';
import { requirePythonDocker } from './helpers.js';

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

/** A /24 of 10.160.0.0/11 no other test uses. */
function v4Subnet(): string {
  const r = randomBytes(2);
  return `10.${160 + (r[0] % 32)}.${r[1]}.0/24`;
}

describe('docker-compose', () => {
  test('a second `up` of the same project finds its network up to date (no recreate)', async () => {
    const subnet = v4Subnet();
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
      '    ipam:',
      '      config:',
      `        - subnet: ${subnet}`,
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
    expect(net.IPAM.Config).toEqual([{ Subnet: subnet }]);
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

/** Connects to host:port and reads until the peer closes. */
function readFrom(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = connect({ host, port }, () => sock.end());
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', reject);
    sock.on('close', () => resolve(Buffer.concat(chunks).toString()));
  });
}

/** A ULA /64 no other test (nor the host, which has fd00::/64) uses. */
function ula64(): string {
  const [a, b, c] = [randomBytes(1).readUInt8(), randomBytes(2).readUInt16BE() | 0x1000, randomBytes(2).readUInt16BE() | 0x1000];
  return `fd${a.toString(16).padStart(2, '0')}:${b.toString(16)}:${c.toString(16)}::`;
}

describe('IPAM config as given', () => {
  test('a subnet given without a gateway shows no Gateway (v4 and v6); one given or chosen by the engine shows it', async () => {
    const [a, b] = [v4Subnet(), v4Subnet()];
    const p = ula64();
    await ok(d, ['network', 'create', '--subnet', a, '--ipv6', '--subnet', `${p}/64`, 'ipam-bare']);
    expect((await api(d, 'GET', '/networks/ipam-bare')).json.IPAM.Config).toEqual([{ Subnet: a }, { Subnet: `${p}/64` }]);
    const gw = b.replace(/0\/24$/, '254');
    await ok(d, ['network', 'create', '--subnet', b, '--gateway', gw, 'ipam-gw']);
    expect((await api(d, 'GET', '/networks/ipam-gw')).json.IPAM.Config).toEqual([{ Subnet: b, Gateway: gw }]);
    await ok(d, ['network', 'create', 'ipam-auto']);
    expect((await api(d, 'GET', '/networks/ipam-auto')).json.IPAM.Config).toEqual([{ Subnet: expect.any(String), Gateway: expect.any(String) }]);
    // the engine still gives the bridge its first address, and containers their gateway
    const out = await ok(d, ['run', '--rm', '--network', 'ipam-bare', 'busybox', 'ip', 'route']);
    expect(out).toContain(`default via ${a.replace(/0\/24$/, '1')}`);
    await ok(d, ['network', 'rm', 'ipam-bare', 'ipam-gw', 'ipam-auto']);
  });
});

describe('IPv6 networks', () => {
  test('--ipv6 with a subnet: addresses, inspect, --ip6, AAAA from the embedded DNS, v6 traffic between containers', async () => {
    const p = ula64();
    await ok(d, ['network', 'create', '--ipv6', '--subnet', `${p}/64`, 'v6-net']);
    const net = (await api(d, 'GET', '/networks/v6-net')).json;
    expect(net.EnableIPv6).toBe(true);
    // as dockerd: the subnet as given (no Gateway), and an IPv4 subnet of the pool with its gateway
    expect(net.IPAM.Config).toContainEqual({ Subnet: `${p}/64` });
    expect(net.IPAM.Config).toContainEqual({ Subnet: expect.stringMatching(/^\d+\./), Gateway: expect.stringMatching(/^\d+\./) });
    const a = await ok(d, ['run', '-d', '--name', 'v6-a', '--network', 'v6-net', 'busybox', 'nc', '-l', '-p', '7000', '-e', 'echo', 'over-v6']);
    const ep = JSON.parse(await ok(d, ['inspect', '-f', '{{json .NetworkSettings.Networks}}', a]))['v6-net'];
    expect(ep.GlobalIPv6Address).toMatch(new RegExp(`^${p}[0-9a-f]+$`));
    expect(ep.GlobalIPv6PrefixLen).toBe(64);
    expect(ep.IPv6Gateway).toBe(`${p}1`);
    const listed = (await api(d, 'GET', '/networks/v6-net')).json.Containers[a];
    expect(listed.IPv6Address).toBe(`${ep.GlobalIPv6Address}/64`);
    // A second container with a static --ip6: its address, the AAAA answer for the first, and v6 traffic to it.
    const script = [
      'ip -6 addr show dev eth0',
      'nslookup -type=aaaa v6-a 127.0.0.11',
      `for i in 1 2 3 4 5 6 7 8 9 10; do nc ${ep.GlobalIPv6Address} 7000 </dev/null && break; sleep 0.3; done`,
      `ping6 -c 1 -W 5 ${p}1 >/dev/null && echo gateway-ok`,
    ].join('; ');
    const out = await ok(d, ['run', '--rm', '--network', 'v6-net', '--ip6', `${p}99`, 'busybox', 'sh', '-c', script]);
    expect(out).toContain(`inet6 ${p}99/64 scope global`);
    expect(out).toMatch(/inet6 fe80::[0-9a-f:]+\/64 scope link/);
    expect(out).toContain(`Address: ${ep.GlobalIPv6Address}`);
    expect(out).toContain('over-v6');
    expect(out).toContain('gateway-ok');
    expect(await ok(d, ['wait', a])).toBe('0');
    // A published port answers on the host's IPv6 addresses too, from the container's IPv6 address.
    const web = await ok(d, ['run', '-d', '--network', 'v6-net', '-p', '7001', 'busybox', 'nc', '-l', '-p', '7001', '-e', 'netstat', '-tn']);
    const ports = JSON.parse(await ok(d, ['inspect', '-f', '{{json .NetworkSettings.Ports}}', web]))['7001/tcp'];
    expect(ports).toEqual([{ HostIp: '0.0.0.0', HostPort: expect.any(String) }, { HostIp: '::', HostPort: ports[0].HostPort }]);
    const webIp6 = JSON.parse(await ok(d, ['inspect', '-f', '{{json .NetworkSettings.Networks}}', web]))['v6-net'].GlobalIPv6Address;
    // the container sees the connection on its IPv6 address
    expect(await readFrom('::1', Number(ports[0].HostPort))).toMatch(new RegExp(`${webIp6}:7001\\s+${p}1:\\d+\\s`));
    await ok(d, ['rm', '-f', web]);
    // --ip6 shows in IPAMConfig as given.
    const b = await ok(d, ['create', '--network', 'v6-net', '--ip6', `${p}77`, 'busybox']);
    expect(JSON.parse(await ok(d, ['inspect', '-f', '{{json .NetworkSettings.Networks}}', b]))['v6-net'].IPAMConfig).toEqual({ IPv6Address: `${p}77` });
    await ok(d, ['rm', '-f', a, b]);
    await ok(d, ['network', 'rm', 'v6-net']);
  });

  test('--ipv6 without a subnet takes a /64 of a ULA pool; networks without --ipv6 give no IPv6 at all', async () => {
    await ok(d, ['network', 'create', '--ipv6', 'v6-auto']);
    const cfg = (await api(d, 'GET', '/networks/v6-auto')).json.IPAM.Config as Array<{ Subnet: string }>;
    expect(cfg.map((c) => c.Subnet)).toContainEqual(expect.stringMatching(/^fd[0-9a-f]{2}:[0-9a-f:]+\/64$/));
    await ok(d, ['network', 'create', 'v4-only']);
    // an IPv6 subnet without --ipv6 is kept, as dockerd keeps it, and gives no addresses
    const q = ula64();
    await ok(d, ['network', 'create', '--subnet', `${q}/64`, 'v6-off']);
    const off = (await api(d, 'GET', '/networks/v6-off')).json;
    expect(off.EnableIPv6).toBe(false);
    expect(off.IPAM.Config.map((c: { Subnet: string }) => c.Subnet)).toContain(`${q}/64`);
    for (const network of ['bridge', 'v4-only', 'v6-off']) {
      const out = await ok(d, ['run', '--rm', '--network', network, 'busybox', 'sh', '-c', 'cat /proc/sys/net/ipv6/conf/eth0/disable_ipv6; ip -6 addr show dev eth0 | grep -c inet6 || true']);
      expect(out.split('\n')).toEqual(['1', '0']);
    }
    // Its published ports are on "::" too (dockerd's docker-proxy), to its IPv4 address.
    const web = await ok(d, ['run', '-d', '--network', 'v4-only', '-p', '7002', 'busybox', 'nc', '-l', '-p', '7002', '-e', 'echo', 'v4-via-v6']);
    const ports = JSON.parse(await ok(d, ['inspect', '-f', '{{json .NetworkSettings.Ports}}', web]))['7002/tcp'];
    expect(ports).toEqual([{ HostIp: '0.0.0.0', HostPort: expect.any(String) }, { HostIp: '::', HostPort: ports[0].HostPort }]);
    expect(await readFrom('::1', Number(ports[0].HostPort))).toBe('v4-via-v6\n');
    await ok(d, ['rm', '-f', web]);
    // connected later to a network with IPv6, a running container gets it on that interface only
    const id = await ok(d, ['run', '-d', '--network', 'v4-only', 'busybox', 'sleep', '60']);
    await ok(d, ['network', 'connect', 'v6-auto', id]);
    const v6 = JSON.parse(await ok(d, ['inspect', '-f', '{{json .NetworkSettings.Networks}}', id]))['v6-auto'].GlobalIPv6Address;
    const addrs = await ok(d, ['exec', id, 'ip', '-6', 'addr']);
    expect(addrs).toContain(`inet6 ${v6}/64 scope global`);
    expect(addrs).not.toMatch(/eth0/);
    await ok(d, ['rm', '-f', id]);
    // a subnet of a host route is refused (this host may route fd00::/64, as ours does: take its own)
    const route = JSON.parse(execFileSync('ip', ['-j', '-6', 'route', 'show', 'table', 'all'], { encoding: 'utf8' }))
      .find((x: { dst: string; type?: string }) => /^f[cd]/.test(x.dst) && x.dst.includes('/') && (x.type ?? 'unicast') === 'unicast')?.dst;
    if (route) {
      const clash = await docker(d, ['network', 'create', '--ipv6', '--subnet', route, 'v6-clash']);
      expect(clash.stderr).toMatch(/overlaps a route of the host/);
    }
    const r = await docker(d, ['run', '--rm', '--network', 'v4-only', '--ip6', 'fd00:1::5', 'busybox', 'true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--ipv6/);
    await ok(d, ['network', 'rm', 'v6-auto', 'v4-only', 'v6-off']);
  });

  test('dockerode, python3-docker and docker-compose make IPv6 networks', async () => {
    requirePythonDocker();
    const client = new Docker({ socketPath: d.socket });
    const p = ula64();
    const net = await client.createNetwork({ Name: 'v6-dockerode', EnableIPv6: true, IPAM: { Driver: 'default', Config: [{ Subnet: `${p}/64` }] } });
    const info = await net.inspect();
    expect(info.EnableIPv6).toBe(true);
    expect(info.IPAM.Config).toContainEqual(expect.objectContaining({ Subnet: `${p}/64` }));
    await net.remove();
    const q = ula64();
    const py = await new Promise<string>((resolve, reject) => {
      execFile('python3', ['-c', `
import docker, sys
c = docker.DockerClient(base_url='unix://' + sys.argv[1])
ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=sys.argv[2])])
n = c.networks.create('v6-python', enable_ipv6=True, ipam=ipam)
out = c.containers.run('busybox', ['sh', '-c', 'ip -6 addr show dev eth0'], network='v6-python', remove=True)
print(n.attrs['EnableIPv6'], out.decode())
n.remove()
`, d.socket, `${q}/64`], { timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
    });
    expect(py).toMatch(/^True /);
    expect(py).toContain(`inet6 ${q}2/64 scope global`);
    const c = ula64();
    writeFileSync(join(dir, 'docker-compose.yml'), [
      'version: "2.4"',
      'services:',
      '  app:',
      '    image: busybox',
      '    command: sleep 300',
      '    networks: [v6]',
      'networks:',
      '  v6:',
      '    enable_ipv6: true',
      '    ipam:',
      '      config:',
      `        - subnet: "${c}/64"`,
      '',
    ].join('\n'));
    const up = await compose(['up', '-d']);
    expect(up).toMatchObject({ code: 0 }); // shows the output when it fails
    const ep = JSON.parse(await ok(d, ['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'compat_app_1']))['compat_v6'];
    expect(ep.GlobalIPv6Address).toBe(`${c}2`);
    expect((await compose(['up', '-d'])).out).toMatch(/up-to-date/);
    expect((await compose(['down'])).code).toBe(0);
  });
});

describe('IPv6 on the default bridge', () => {
  test('berthd --ipv6 --fixed-cidr-v6: containers on the default bridge get an address of it', async () => {
    const p = ula64();
    const v6d = await daemonWithBusybox({ args: ['--ipv6', '--fixed-cidr-v6', `${p}/64`] });
    try {
      const bridge = (await api(v6d, 'GET', '/networks/bridge')).json;
      expect(bridge.EnableIPv6).toBe(true);
      expect(bridge.IPAM.Config).toContainEqual({ Subnet: `${p}/64`, Gateway: `${p}1` });
      const id = await ok(v6d, ['run', '-d', 'busybox', 'sleep', '60']);
      const settings = JSON.parse(await ok(v6d, ['inspect', '-f', '{{json .NetworkSettings}}', id]));
      expect(settings.GlobalIPv6Address).toBe(`${p}2`);
      expect(settings.IPv6Gateway).toBe(`${p}1`);
      expect(await ok(v6d, ['exec', id, 'ip', '-6', 'route'])).toContain(`default via ${p}1 dev eth0`);
      await ok(v6d, ['rm', '-f', id]);
    } finally {
      await v6d.stop();
    }
  });
});

describe('link-local addresses', () => {
  test('--link-local-ip addresses are on the container interface, IPv4 /16 and IPv6 /64 as dockerd puts them', async () => {
    await ok(d, ['network', 'create', 'll-net']);
    const out = await ok(d, ['run', '--rm', '--network', 'll-net', '--link-local-ip', '169.254.20.20', '--link-local-ip', 'fe80::2020', 'busybox', 'ip', 'addr', 'show', 'dev', 'eth0']);
    expect(out).toContain('inet 169.254.20.20/16');
    expect(out).toContain('inet6 fe80::2020/64');
    // at connect too
    const id = await ok(d, ['run', '-d', 'busybox', 'sleep', '60']);
    await ok(d, ['network', 'connect', '--link-local-ip', '169.254.30.30', 'll-net', id]);
    expect(await ok(d, ['exec', id, 'ip', 'addr', 'show', 'dev', 'eth1'])).toContain('inet 169.254.30.30/16');
    await ok(d, ['rm', '-f', id]);
    await ok(d, ['network', 'rm', 'll-net']);
  });
});
