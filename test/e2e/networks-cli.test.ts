/**
 * Networks with the real docker CLI against berthd: name resolution on user networks,
 * published ports (loopback, host address, hairpin), NAT to a namespace outside the
 * engine, none/internal/isolation, network commands, restart, and cleanup on stop.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { api, startDaemon, type Daemon } from '../fixtures/daemon.js';
import { buildImage, busyboxEntries, pushImage } from '../fixtures/images.js';
import { startRegistry, type Registry } from '../fixtures/registry.js';
import { DOCKER_CLI, dockerCli, requireDockerCli } from '../fixtures/docker-cli.js';
import { OutsideHost, hostAddress, httpdIn, octet, sh, shOk, tempDir, waitFor } from '../integration/networks/netenv.js';
import type { ChildProcess } from 'node:child_process';

const run = promisify(execFile);
const DOCKER = DOCKER_CLI;
const o = octet(216, 217, 218);
const work = tempDir('berth-netcli-');
let registry: Registry;
let daemon: Daemon;
let outside: OutsideHost;
let outsideHttpd: ChildProcess;
let IMG: string;
const extraArgs = ['--bip', `10.216.${o}.1/24`, '--default-address-pool', `base=10.217.${o}.0/24,size=27`];

const { docker, dockerFails } = dockerCli(() => daemon.env);

function bridgeOf(d: Daemon): Promise<string> {
  return run(DOCKER, ['network', 'inspect', 'bridge', '-f', '{{index .Options "com.docker.network.bridge.name"}}'], { env: { ...process.env, ...d.env } }).then((r) => r.stdout.trim());
}

beforeAll(async () => {
  requireDockerCli();
  registry = await startRegistry();
  const image = await buildImage({ layers: [busyboxEntries([{ name: 'srv/' }, { name: 'srv/www/' }, { name: 'srv/www/index.html', content: 'hello from berth\n' }])] });
  await pushImage(registry.url, 'lib/busybox', 'latest', image);
  IMG = `${registry.host}/lib/busybox`;
  daemon = await startDaemon({ args: extraArgs, keep: true });
  await docker('pull', '-q', IMG);
  outside = new OutsideHost(work, `10.218.${o}`);
  outsideHttpd = httpdIn(outside.netns, 80, 'outside world\n', work);
});

afterAll(async () => {
  outsideHttpd?.kill();
  const left = daemon ? await docker('ps', '-aq').catch(() => '') : '';
  if (left) await docker('rm', '-f', ...left.split('\n')).catch(() => undefined);
  await daemon?.stop();
  outside?.destroy();
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

const httpd = ['httpd', '-f', '-p', '80', '-h', '/srv/www'];

test('two containers on a user network reach each other by name and alias', async () => {
  await docker('network', 'create', 'appnet');
  await docker('run', '-d', '--name', 'web', '--network', 'appnet', '--network-alias', 'www', IMG, ...httpd);
  await waitFor(() => docker('exec', 'web', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1/').then(() => true, () => false), 'httpd in web');
  expect(await docker('run', '--rm', '--network', 'appnet', IMG, 'wget', '-q', '-O', '-', 'http://web/')).toBe('hello from berth');
  expect(await docker('run', '--rm', '--network', 'appnet', IMG, 'wget', '-q', '-O', '-', 'http://www/')).toBe('hello from berth');
  expect(await docker('run', '--rm', '--network', 'appnet', IMG, 'ping', '-c', '1', '-W', '2', 'web')).toContain('1 packets received');
  const id = await docker('inspect', '-f', '{{.Id}}', 'web');
  expect(await docker('run', '--rm', '--network', 'appnet', IMG, 'nslookup', id.slice(0, 12), '127.0.0.11')).toContain(await docker('inspect', '-f', '{{.NetworkSettings.Networks.appnet.IPAddress}}', 'web'));
  expect(await docker('run', '--rm', '--network', 'appnet', IMG, 'cat', '/etc/resolv.conf')).toContain('nameserver 127.0.0.11');
});

test('a published httpd answers on 127.0.0.1, on the host address, and by hairpin; docker port tells', async () => {
  await docker('run', '-d', '--name', 'pub', '-p', '80', '--expose', '8080', IMG, ...httpd);
  const port = (await docker('port', 'pub', '80')).split('\n')[0].split(':').pop()!;
  expect(Number(port)).toBeGreaterThan(0);
  const ports = JSON.parse(await docker('inspect', '-f', '{{json .NetworkSettings.Ports}}', 'pub'));
  expect(ports['80/tcp'][0]).toEqual({ HostIp: '0.0.0.0', HostPort: port });
  expect(ports['8080/tcp']).toBeNull();
  await waitFor(() => shOk(`busybox wget -q -O /dev/null http://127.0.0.1:${port}/`), 'the published port');
  expect(await sh(`busybox wget -q -O - http://127.0.0.1:${port}/`)).toBe('hello from berth\n');
  expect(await sh(`busybox wget -q -O - http://${hostAddress()}:${port}/`)).toBe('hello from berth\n');
  expect(await docker('run', '--rm', IMG, 'wget', '-q', '-O', '-', `http://${hostAddress()}:${port}/`)).toBe('hello from berth');

  const fixed = await docker('run', '-d', '-p', `127.0.0.1:${Number(port) + 1}-${Number(port) + 20}:80/tcp`, IMG, ...httpd);
  const fixedPort = (await docker('port', fixed, '80/tcp')).split(':').pop()!;
  expect(await docker('port', fixed)).toBe(`80/tcp -> 127.0.0.1:${fixedPort}`);
  await waitFor(() => shOk(`busybox wget -q -O /dev/null http://127.0.0.1:${fixedPort}/`), 'the ranged port');
  await docker('rm', '-f', fixed);
});

test('a host port already in use, and invalid port specs, fail clearly with nothing half-made', async () => {
  const port = (await docker('port', 'pub', '80')).split('\n')[0].split(':').pop()!;
  const namespaces = () => readdirSync(`${daemon.execRoot}/netns`).filter((f) => !f.startsWith('pool-')).length;
  const netnsBefore = namespaces();
  const err = await dockerFails('run', '-d', '--name', 'clash', '-p', `${port}:80`, IMG, ...httpd);
  expect(err).toMatch(new RegExp(`port 0.0.0.0:${port}/tcp is already in use`));
  expect(namespaces()).toBe(netnsBefore);
  await docker('rm', '-f', 'clash');
  expect(await dockerFails('run', '--rm', '-p', '99999:80', IMG, 'true')).toMatch(/invalid|port/i);
  expect(await dockerFails('run', '--rm', '-p', '80/sctpx', IMG, 'true')).toMatch(/invalid|protocol/i);
  // the engine checks too, whatever the client sent
  const created = await api(daemon, 'POST', '/v1.47/containers/create', { Image: IMG, Cmd: ['true'], HostConfig: { PortBindings: { '80/tcp': [{ HostPort: '99999' }] } } });
  const started = await api(daemon, 'POST', `/v1.47/containers/${created.json.Id}/start`);
  expect(started.status).toBe(400);
  expect(started.json.message).toMatch(/invalid host port "99999"/);
  await docker('rm', '-f', created.json.Id);

  // -P publishes every exposed port on an ephemeral host port
  const all = await docker('run', '-d', '-P', '--expose', '8081', IMG, 'httpd', '-f', '-p', '8081', '-h', '/srv/www');
  const p8081 = (await docker('port', all, '8081/tcp')).split('\n')[0].split(':').pop()!;
  await waitFor(() => shOk(`busybox wget -q -O /dev/null http://127.0.0.1:${p8081}/`), 'the -P port');
  await docker('rm', '-f', all);
});

test('a container reaches a server outside the engine through NAT; --network none has only lo', async () => {
  expect(await docker('run', '--rm', IMG, 'wget', '-q', '-O', '-', `http://${outside.address}/`)).toBe('outside world');
  expect((await docker('run', '--rm', '--network', 'none', IMG, 'ip', '-o', 'link')).split('\n').map((l) => l.split(':')[1].trim())).toEqual(['lo']);
  expect(await docker('run', '--rm', '--network', 'host', IMG, 'ip', '-o', 'link')).toContain('eth0');
});

test('an internal network has no way out; containers on different networks cannot talk', async () => {
  await docker('network', 'create', '--internal', 'sealed');
  expect(await dockerFails('run', '--rm', '--network', 'sealed', IMG, 'wget', '-q', '-O', '-', `http://${outside.address}/`)).not.toBe('');
  await docker('network', 'create', 'othernet');
  const webIp = await docker('inspect', '-f', '{{.NetworkSettings.Networks.appnet.IPAddress}}', 'web');
  await dockerFails('run', '--rm', '--network', 'othernet', IMG, 'ping', '-c', '1', '-W', '1', webIp);
  await dockerFails('run', '--rm', '--network', 'othernet', IMG, 'nslookup', 'web', '127.0.0.11');
});

test('network ls, inspect, connect, disconnect, rm and prune', async () => {
  const ls = await docker('network', 'ls', '--format', '{{.Name}} {{.Driver}}');
  expect(ls.split('\n').sort()).toEqual(['appnet bridge', 'bridge bridge', 'host host', 'none null', 'othernet bridge', 'sealed bridge']);
  expect(await docker('network', 'ls', '-q', '--filter', 'name=appnet')).toHaveLength(12);

  await docker('network', 'connect', '--alias', 'front', 'othernet', 'web');
  const info = JSON.parse(await docker('network', 'inspect', 'othernet'))[0];
  expect(Object.values(info.Containers).map((c: any) => c.Name)).toEqual(['web']);
  expect(await docker('run', '--rm', '--network', 'othernet', IMG, 'wget', '-q', '-O', '-', 'http://front/')).toBe('hello from berth');
  expect(Object.keys(JSON.parse(await docker('inspect', '-f', '{{json .NetworkSettings.Networks}}', 'web'))).sort()).toEqual(['appnet', 'othernet']);
  await docker('network', 'disconnect', 'othernet', 'web');
  expect(Object.keys(JSON.parse(await docker('network', 'inspect', 'othernet'))[0].Containers)).toEqual([]);
  expect(Object.keys(JSON.parse(await docker('inspect', '-f', '{{json .NetworkSettings.Networks}}', 'web')))).toEqual(['appnet']);

  // a container connected before it starts joins both networks when it starts
  await docker('create', '--name', 'late', '--network', 'appnet', IMG, 'sleep', '1000');
  await docker('network', 'connect', '--alias', 'tardy', 'othernet', 'late');
  await docker('start', 'late');
  expect(Object.values(JSON.parse(await docker('network', 'inspect', 'othernet'))[0].Containers).map((c: any) => c.Name)).toEqual(['late']);
  expect(await docker('run', '--rm', '--network', 'othernet', IMG, 'ping', '-c', '1', '-W', '2', 'tardy')).toContain('1 packets received');
  await docker('rm', '-f', 'late');

  expect(await dockerFails('network', 'rm', 'appnet')).toMatch(/has active endpoints/);
  expect(await dockerFails('network', 'rm', 'bridge')).toMatch(/pre-defined network/);
  expect(await dockerFails('network', 'create', '--subnet', (info.IPAM.Config[0].Subnet as string), 'dupnet')).toMatch(/overlaps/);
  const pruned = await run(DOCKER, ['network', 'prune', '-f'], { env: { ...process.env, ...daemon.env } });
  expect(pruned.stdout).toMatch(/othernet/);
  expect(pruned.stdout).toMatch(/sealed/);
  expect(await docker('network', 'ls', '--format', '{{.Name}}')).toContain('appnet');
});

test('--dns, --dns-search, --add-host, --hostname, --mac-address, --ip, --link and container:ID', async () => {
  const files = await docker('run', '--rm', '--dns', '10.9.9.9', '--dns-search', 'example.test', '--add-host', 'db:10.1.2.3', '--add-host', 'gw:host-gateway',
    '--hostname', 'box', '--mac-address', '02:42:ac:11:99:99', IMG, 'sh', '-c', 'cat /etc/resolv.conf /etc/hosts; hostname; cat /sys/class/net/eth0/address');
  expect(files).toContain('nameserver 10.9.9.9');
  expect(files).toContain('search example.test');
  expect(files).toMatch(/10\.1\.2\.3\tdb/);
  expect(files).toContain(`10.216.${o}.1\tgw`);
  expect(files).toMatch(/\tbox\n/);
  expect(files).toMatch(/\nbox\n02:42:ac:11:99:99$/);

  const sub = JSON.parse(await docker('network', 'inspect', 'appnet'))[0].IPAM.Config[0].Subnet as string;
  const fixed = sub.replace(/\.(\d+)\/\d+$/, (_m, last) => `.${Number(last) + 25}`);
  expect(await docker('run', '--rm', '--network', 'appnet', '--ip', fixed, IMG, 'ip', '-o', '-4', 'addr', 'show', 'eth0')).toContain(`${fixed}/`);
  expect(await dockerFails('run', '--rm', '--ip', '10.216.' + o + '.50', IMG, 'true')).toMatch(/user defined networks only/);

  expect(await docker('run', '--rm', '--link', 'pub:p', IMG, 'wget', '-q', '-O', '-', 'http://p/')).toBe('hello from berth');
  const pubIp = await docker('inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'pub');
  expect(await docker('run', '--rm', '--network', 'container:pub', IMG, 'ip', '-o', '-4', 'addr', 'show', 'eth0')).toContain(`${pubIp}/`);
});

test('a restart keeps running containers reachable; a stop with none running leaves nothing behind', async () => {
  const port = (await docker('port', 'pub', '80')).split('\n')[0].split(':').pop()!;
  const bridge = await bridgeOf(daemon);
  await daemon.stop();
  expect(await shOk(`ip link show ${bridge}`)).toBe(true); // live restore: kept for running containers
  daemon = await startDaemon({ args: extraArgs, dataRoot: daemon.dataRoot, execRoot: daemon.execRoot, keep: true });
  await waitFor(() => shOk(`busybox wget -q -O /dev/null http://127.0.0.1:${port}/`), 'the restored port');
  expect(await docker('run', '--rm', '--network', 'appnet', IMG, 'wget', '-q', '-O', '-', 'http://web/')).toBe('hello from berth');
  // a container that kept running resolves names through the restarted resolver
  expect(await docker('exec', 'web', 'wget', '-q', '-O', '-', 'http://www/')).toBe('hello from berth');

  // berthd killed outright: its port proxies exit with it, and the next start brings them back
  const proxies = proxiesOf(daemon.pid);
  expect(proxies.length).toBeGreaterThan(0);
  daemon.process.kill('SIGKILL');
  await daemon.stop();
  await waitFor(async () => proxies.every((pid) => !existsSync(`/proc/${pid}`)), 'the killed engine\'s proxies to exit');
  daemon = await startDaemon({ args: extraArgs, dataRoot: daemon.dataRoot, execRoot: daemon.execRoot, keep: true });
  await waitFor(() => shOk(`busybox wget -q -O /dev/null http://127.0.0.1:${port}/`), 'the port restored after a kill');
  expect(proxiesOf(daemon.pid).length).toBe(proxies.length);

  // a second engine with its own bridge and data-root coexists
  const second = await startDaemon();
  try {
    const other = await bridgeOf(second);
    expect(other).not.toBe(bridge);
    const env = { ...process.env, ...second.env };
    await run(DOCKER, ['pull', '-q', IMG], { env });
    const out = await run(DOCKER, ['run', '--rm', IMG, 'wget', '-q', '-O', '-', `http://${outside.address}/`], { env });
    expect(out.stdout).toBe('outside world\n');
  } finally {
    await second.stop();
  }

  await docker('rm', '-f', 'web', 'pub');
  const nets = (await docker('network', 'ls', '-q', '--filter', 'driver=bridge')).split('\n');
  const bridges = await Promise.all(nets.map((n) => docker('network', 'inspect', '-f', '{{with index .Options "com.docker.network.bridge.name"}}{{.}}{{else}}br-{{slice .Id 0 12}}{{end}}', n)));
  await daemon.stop();
  for (const br of bridges) expect(await shOk(`ip link show ${br}`)).toBe(false);
  expect(await sh('nft list tables')).not.toContain(`berth_${bridge.replace(/[^A-Za-z0-9_]/g, '_')}`);
  expect(readdirSync(`${daemon.execRoot}/netns`)).toEqual([]);
  daemon = await startDaemon({ args: extraArgs, dataRoot: daemon.dataRoot, execRoot: daemon.execRoot }); // for afterAll
});

/** The berth-proxy processes an engine started (its children by that name). */
function proxiesOf(enginePid: number): number[] {
  return readdirSync('/proc').filter((f) => /^\d+$/.test(f)).filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.includes('(berth-proxy)') && Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === enginePid;
    } catch { return false; } // gone meanwhile
  }).map(Number);
}
