/**
 * The network service on the real kernel, without containers: sandboxes are the
 * namespaces the service makes, and the tests run busybox inside them with nsenter.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { EventBus } from '../../../engine/events.js';
import { proxyPath } from '../../../engine/networks/proxy.js';
import { NetworkService } from '../../../engine/networks/service.js';
import type { AttachRequest } from '../../../engine/networks/index.js';
import { OutsideHost, hostAddress, httpdIn, octet, requireTools, sh, shOk, tag, tempDir, waitFor } from './netenv.js';

requireTools('ip', 'nft', 'busybox', 'nsenter', 'unshare');

const root = tempDir('berth-net-');
const t = tag();
const bridge = `bt${t}`;
const b = octet(219, 220, 221); // 10.213 is the SSH-host fixture's
const opts = {
  dataRoot: join(root, 'data'),
  execRoot: join(root, 'exec'),
  events: new EventBus(),
  bridge,
  bip: `10.219.${b}.1/24`,
  defaultAddressPools: [`base=10.220.${b}.0/24,size=27`],
};
const table = `berth_${bridge}`;
let svc: NetworkService;
let outside: OutsideHost;
const children: ChildProcess[] = [];
let n = 0;

const ids: string[] = [];
const namespaces = () => readdirSync(join(opts.execRoot, 'netns')).filter((f) => !f.startsWith('pool-'));

function req(name: string, hostConfig: AttachRequest['hostConfig'] = {}, extra: Partial<AttachRequest> = {}): AttachRequest {
  const id = `${t}${(n++).toString(16).padStart(4, '0')}`.padEnd(64, '0');
  ids.push(id);
  return { id, name: `/${name}`, hostname: id.slice(0, 12), domainname: '', config: {}, hostConfig, ...extra };
}

const inNs = (netns: string, cmd: string) => sh(`nsenter --net=${netns} ${cmd}`);
const okInNs = (netns: string, cmd: string) => shOk(`nsenter --net=${netns} ${cmd}`);
const get = (netns: string, url: string) => inNs(netns, `busybox wget -q -O - ${url}`);

beforeAll(async () => {
  svc = await NetworkService.open(opts);
  outside = new OutsideHost(root, `10.221.${b}`);
  children.push(httpdIn(outside.netns, 80, 'outside\n', root));
});

afterAll(async () => {
  for (const c of children) c.kill();
  for (const id of ids) await svc.detach(id).catch(() => undefined);
  await svc.shutdown().catch(() => undefined);
  outside?.destroy();
  rmSync(root, { recursive: true, force: true });
});

test('the default bridge exists with the given address, and the daemon table with it', async () => {
  expect(await sh(`ip -br addr show ${bridge}`)).toContain(`10.219.${b}.1/24`);
  expect(await sh(`nft list table ip ${table}`)).toContain(`ip saddr 10.219.${b}.0/24 oifname != "${bridge}" masquerade`);
  expect(svc.list().map((x) => x.Name).sort()).toEqual(['bridge', 'host', 'none']);
});

describe('a user network', () => {
  let netId: string;
  let alphaId: string;
  let a: Awaited<ReturnType<NetworkService['attach']>>;
  let bRes: Awaited<ReturnType<NetworkService['attach']>>;

  beforeAll(async () => {
    netId = (await svc.create({ Name: `net${t}`, Labels: { purpose: 'test' } })).Id;
    const ra = req('alpha', { NetworkMode: `net${t}` });
    alphaId = ra.id;
    a = await svc.attach(ra);
    bRes = await svc.attach(req('beta', { NetworkMode: `net${t}` }, { networkingConfig: { EndpointsConfig: { [`net${t}`]: { Aliases: ['db'] } } } }));
  });

  test('containers reach each other, by name and alias through 127.0.0.11', async () => {
    const ipB = (bRes.settings.Networks as any)[`net${t}`].IPAddress;
    expect(ipB).toMatch(new RegExp(`^10\\.220\\.${b}\\.`));
    expect(a.resolvConf).toContain('nameserver 127.0.0.11');
    await inNs(a.netnsPath!, `busybox ping -c1 -W2 ${ipB}`);
    expect(await inNs(a.netnsPath!, 'busybox nslookup beta 127.0.0.11')).toContain(ipB);
    expect(await inNs(a.netnsPath!, 'busybox nslookup db 127.0.0.11')).toContain(ipB);
    expect(await okInNs(a.netnsPath!, 'busybox nslookup nosuchname 127.0.0.11')).toBe(false);
  });

  test('they reach the outside through NAT (the outside has no route back)', async () => {
    expect(await get(a.netnsPath!, `http://${outside.address}/`)).toBe('outside\n');
  });

  test('inspect lists the containers; removing it while in use is a conflict', async () => {
    const info = svc.inspect(`net${t}`) as any;
    expect(Object.values(info.Containers).map((c: any) => c.Name).sort()).toEqual(['alpha', 'beta']);
    await expect(svc.remove(netId)).rejects.toThrow(/has active endpoints/);
  });

  test('an overlapping subnet is refused and nothing is made', async () => {
    const sub = (svc.inspect(netId) as any).IPAM.Config[0].Subnet;
    const mine = async () => (await sh('ip -br addr')).split('\n').filter((l) => l.includes(`10.220.${b}.`)).sort().join('\n');
    const before = await mine();
    await expect(svc.create({ Name: `dup${t}`, IPAM: { Config: [{ Subnet: sub }] } })).rejects.toThrow(/overlaps network/);
    await expect(svc.create({ Name: `net${t}` })).rejects.toThrow(/already exists/);
    expect(await mine()).toBe(before);
    expect(svc.list().map((x) => x.Name)).not.toContain(`dup${t}`);
  });

  test('containers on another network cannot reach them; an internal network has no way out', async () => {
    await svc.create({ Name: `other${t}` });
    const c = await svc.attach(req('gamma', { NetworkMode: `other${t}` }));
    const ipA = (a.settings.Networks as any)[`net${t}`].IPAddress;
    expect(await get(c.netnsPath!, `http://${outside.address}/`)).toBe('outside\n');
    expect(await okInNs(c.netnsPath!, `busybox ping -c1 -W1 ${ipA}`)).toBe(false);

    await svc.create({ Name: `int${t}`, Internal: true });
    const d = await svc.attach(req('delta', { NetworkMode: `int${t}` }));
    expect(await inNs(d.netnsPath!, 'ip route')).not.toContain('default');
    expect(await okInNs(d.netnsPath!, `busybox wget -q -O - http://${outside.address}/`)).toBe(false);
  });

  test('connect and disconnect a running sandbox, with a static address', async () => {
    const sub = (svc.inspect(`other${t}`) as any).IPAM.Config[0].Subnet as string;
    const ip = sub.replace(/\.\d+\/\d+$/, (m) => `.${Number(m.slice(1).split('/')[0]) + 20}`);
    await svc.connect(`other${t}`, 'alpha', { IPAMConfig: { IPv4Address: ip } });
    expect(await inNs(a.netnsPath!, 'ip -br addr show eth1')).toContain(ip);
    expect((svc.settings(alphaId) as any).Networks[`other${t}`].IPAddress).toBe(ip);
    await svc.disconnect(`other${t}`, 'alpha');
    expect(await okInNs(a.netnsPath!, 'ip link show eth1')).toBe(false);
  });
});

describe('published ports on the default bridge', () => {
  test('reachable on loopback, on the host address, from another host, and by hairpin from the container itself', async () => {
    const r = req('web', { PortBindings: { '80/tcp': [{ HostPort: '' }] } }, { config: { ExposedPorts: { '80/tcp': {}, '81/tcp': {} } } });
    const res = await svc.attach(r);
    children.push(httpdIn(res.netnsPath!, 80, 'hello\n', root));
    const ports = res.settings.Ports as any;
    expect(ports['81/tcp']).toBeNull();
    const hostPort = ports['80/tcp'][0].HostPort;
    await waitFor(() => shOk(`nsenter --net=${res.netnsPath} busybox wget -q -O /dev/null http://127.0.0.1/`), 'httpd');
    expect(await sh(`busybox wget -q -O - http://127.0.0.1:${hostPort}/`)).toBe('hello\n');
    expect(await sh(`busybox wget -q -O - http://${hostAddress()}:${hostPort}/`)).toBe('hello\n');
    expect(await get(res.netnsPath!, `http://${hostAddress()}:${hostPort}/`)).toBe('hello\n');
    // from another host: the outside namespace reaches the host's address on their link
    expect(await get(outside.netns, `http://10.221.${b}.1:${hostPort}/`)).toBe('hello\n');
    expect(await sh(`nft list table ip ${table}`)).toContain(`tcp dport ${hostPort} dnat to`);

    // the same host port again: a clear conflict, and no namespace or address is left behind
    const before = namespaces().length;
    const clash = req('web2', { PortBindings: { '80/tcp': [{ HostPort: hostPort }] } });
    await expect(svc.attach(clash)).rejects.toThrow(new RegExp(`host port 0.0.0.0:${hostPort}/tcp is already in use`));
    expect(namespaces().length).toBe(before);
    expect(svc.settings(clash.id)).toBeNull();

    await svc.detach(r.id);
    expect(await sh(`nft list table ip ${table}`)).not.toContain(`dport ${hostPort} `);
    expect(existsSync(res.netnsPath!)).toBe(false);
  });
});

test('a published UDP port answers through the proxy (loopback) and DNAT (host address)', async () => {
  const r = req('udp', { PortBindings: { '9999/udp': [{ HostPort: '' }] } });
  const res = await svc.attach(r);
  await udpEchoIn(res.netnsPath!, 9999);
  const hostPort = Number((res.settings.Ports as any)['9999/udp'][0].HostPort);
  for (const addr of ['127.0.0.1', hostAddress()]) expect(await udpRoundTrip(addr, hostPort, 'hi')).toBe('echo:hi');
  await svc.detach(r.id);
});

async function udpEchoIn(netns: string, port: number): Promise<void> {
  const echo = spawn('nsenter', [`--net=${netns}`, process.execPath, '-e',
    `const d=require('dgram').createSocket('udp4');d.on('message',(m,r)=>d.send(Buffer.concat([Buffer.from('echo:'),m]),r.port,r.address));d.bind(${port},()=>console.log('ready'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(echo);
  await new Promise<void>((resolve) => echo.stdout!.once('data', () => resolve()));
}

/** The berth-proxy processes forwarding to IP: pid, uid and arguments, from /proc. */
function proxiesTo(ip: string): Array<{ pid: number; uid: number; args: string[] }> {
  const found = [];
  for (const pid of readdirSync('/proc').filter((f) => /^\d+$/.test(f))) {
    try {
      if (readlinkSync(`/proc/${pid}/exe`) !== proxyPath()) continue;
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(1, -1);
      const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
      if (args[1] === ip) found.push({ pid: Number(pid), uid, args });
    } catch { /* gone meanwhile, or not ours to read */ }
  }
  return found;
}

test('berth-proxy processes serve loopback for TCP and UDP, unprivileged, and are gone once the container is detached', async () => {
  const r = req('native', { PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }], '9998/udp': [{ HostIp: '127.0.0.1', HostPort: '' }] } });
  const res = await svc.attach(r);
  children.push(httpdIn(res.netnsPath!, 80, 'native\n', root));
  await udpEchoIn(res.netnsPath!, 9998);
  const ports = res.settings.Ports as any;
  const [tcpPort, udpPort] = [ports['80/tcp'][0].HostPort, ports['9998/udp'][0].HostPort];
  await waitFor(() => shOk(`nsenter --net=${res.netnsPath} busybox wget -q -O /dev/null http://127.0.0.1/`), 'httpd');
  expect(await sh(`busybox wget -q -O - http://127.0.0.1:${tcpPort}/`)).toBe('native\n');
  expect(await udpRoundTrip('127.0.0.1', Number(udpPort), 'hi')).toBe('echo:hi');

  const ip = (res.settings.Networks as any).bridge.IPAddress;
  const procs = proxiesTo(ip);
  expect(procs.map((p) => p.args.join(' ')).sort()).toEqual([`tcp ${ip} 80`, `udp ${ip} 9998`]);
  for (const p of procs) expect(p.uid).toBe(65534);
  await svc.detach(r.id);
  for (const p of procs) expect(existsSync(`/proc/${p.pid}`)).toBe(false);
  expect(await shOk(`busybox wget -q -T 2 -O /dev/null http://127.0.0.1:${tcpPort}/`)).toBe(false);
});

function udpRoundTrip(host: string, port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    const timer = setTimeout(() => { sock.close(); reject(new Error(`no UDP answer from ${host}:${port}`)); }, 3000);
    sock.on('message', (m) => { clearTimeout(timer); sock.close(); resolve(m.toString()); });
    sock.send(text, port, host);
  });
}

test('exhausted address pools: a clear error and nothing half-made', async () => {
  // the pool 10.220.b.0/24 in /27s: a user network exists already (and others were made)
  const made: string[] = [];
  let err: Error | undefined;
  for (let i = 0; i < 9 && !err; i++) {
    await svc.create({ Name: `fill${t}${i}` }).then((r) => made.push(r.Id), (e) => { err = e; });
  }
  expect(err?.message).toMatch(/all predefined address pools are in use: give a --subnet/);
  expect(svc.list({ name: [`fill${t}`] })).toHaveLength(made.length);
  for (const id of made) await svc.remove(id);

  const sub = `10.220.${b}.224/27`;
  await svc.create({ Name: `tiny${t}`, IPAM: { Config: [{ Subnet: sub, IPRange: `10.220.${b}.228/31` }] } });
  const first = req('tiny1', { NetworkMode: `tiny${t}` });
  const second = req('tiny2', { NetworkMode: `tiny${t}` });
  await svc.attach(first);
  await svc.attach(second);
  const before = namespaces().length;
  const third = req('tiny3', { NetworkMode: `tiny${t}` });
  await expect(svc.attach(third)).rejects.toThrow(/no address left in 10.220.\d+.228\/31/);
  expect(namespaces().length).toBe(before);
  await svc.detach(first.id);
  await svc.attach(third); // the released address serves again
  await svc.detach(second.id);
  await svc.detach(third.id);
  await svc.remove(`tiny${t}`);
});

test('network options: bridge name, MTU, gateway, ip-range, labels; bad options are refused', async () => {
  const name = `bo${t}`;
  await svc.create({ Name: `opt${t}`, Labels: { tier: 'db' }, Options: { 'com.docker.network.bridge.name': name, 'com.docker.network.driver.mtu': '1400' },
    IPAM: { Config: [{ Subnet: `10.220.${b}.192/27`, Gateway: `10.220.${b}.222`, IPRange: `10.220.${b}.208/28` }] } });
  expect(await sh(`ip -d link show ${name}`)).toMatch(/mtu 1400 .*\n[\s\S]*bridge/);
  expect(await sh(`ip -br addr show ${name}`)).toContain(`10.220.${b}.222/27`);
  const r = req('opt', { NetworkMode: `opt${t}` });
  const res = await svc.attach(r);
  expect((res.settings.Networks as any)[`opt${t}`]).toMatchObject({ IPAddress: `10.220.${b}.208`, Gateway: `10.220.${b}.222`, IPPrefixLen: 27 });
  expect(await inNs(res.netnsPath!, 'ip link show eth0')).toContain('mtu 1400');
  expect(svc.list({ label: ['tier=db'] }).map((x) => x.Name)).toEqual([`opt${t}`]);
  await svc.detach(r.id);
  await svc.remove(`opt${t}`);
  expect(await shOk(`ip link show ${name}`)).toBe(false);

  await expect(svc.create({ Name: `x${t}`, Options: { 'com.docker.network.driver.mtu': 'big' } })).rejects.toThrow(/invalid MTU/);
  await expect(svc.create({ Name: `x${t}`, Options: { 'com.docker.network.bridge.name': 'much-too-long-name' } })).rejects.toThrow(/invalid bridge name/);
  // outside swarm mode, as dockerd says it
  await expect(svc.create({ Name: `x${t}`, Driver: 'overlay' })).rejects.toThrow(/not a swarm manager/);
  await expect(svc.create({ Name: `x${t}`, Driver: 'macvlan' })).rejects.toThrow(/not supported/);
  await expect(svc.create({ Name: 'bad/name' })).rejects.toThrow(/invalid network name/);
  await expect(svc.create({ Name: `x${t}`, IPAM: { Config: [{ Subnet: '10.0.0.5/8' }] } })).rejects.toThrow(/host bits/);
  expect(svc.list().map((x) => x.Name)).not.toContain(`x${t}`);
});

test('--network none has only lo; host has no namespace', async () => {
  const none = await svc.attach(req('nothing', { NetworkMode: 'none' }));
  expect((await inNs(none.netnsPath!, 'ip -o link')).trim().split('\n').map((l) => l.split(':')[1].trim())).toEqual(['lo']);
  const host = await svc.attach(req('hosty', { NetworkMode: 'host' }));
  expect(host.netnsPath).toBeNull();
});

test('a restart with a running sandbox keeps it and restores its published port; a stop with none left cleans up', async () => {
  const r = req('kept', { PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } });
  const res = await svc.attach(r);
  children.push(httpdIn(res.netnsPath!, 80, 'kept\n', root));
  const hostPort = (res.settings.Ports as any)['80/tcp'][0].HostPort;
  const v6 = `fd42:${b}:${(1 + Math.floor(Math.random() * 0xfffe)).toString(16)}::`;
  await svc.create({ Name: `rs${t}`, EnableIPv6: true, IPAM: { Config: [{ Subnet: `${v6}/64` }] } });
  const named = req('named', { NetworkMode: `rs${t}` });
  const namedRes = await svc.attach(named);
  const namedIp6 = (namedRes.settings.Networks as any)[`rs${t}`].GlobalIPv6Address;
  expect(namedIp6).toBe(`${v6}2`);
  const keptIp = (res.settings.Networks as any).bridge.IPAddress;
  const before = proxiesTo(keptIp);
  expect(before).toHaveLength(1);
  await svc.shutdown();
  expect(await sh(`ip -br link show ${bridge}`)).toContain(bridge);
  // the proxies go with the engine and come back with restore
  for (const p of before) expect(existsSync(`/proc/${p.pid}`)).toBe(false);
  svc = await NetworkService.open(opts);
  const again = await svc.restore(r.id);
  expect(proxiesTo(keptIp)).toHaveLength(1);
  expect((again.settings.Ports as any)['80/tcp'][0].HostPort).toBe(hostPort);
  await waitFor(() => shOk(`busybox wget -q -O /dev/null http://127.0.0.1:${hostPort}/`), 'restored proxy');
  expect(await sh(`busybox wget -q -O - http://127.0.0.1:${hostPort}/`)).toBe('kept\n');
  await svc.restore(named.id);
  expect(await inNs(namedRes.netnsPath!, 'busybox nslookup named 127.0.0.11')).toContain((namedRes.settings.Networks as any)[`rs${t}`].IPAddress);
  // the restarted engine gives the bridge its v6 gateway back and holds the v6 address in use
  expect(await sh(`ip -6 addr show dev br-${String(svc.inspect(`rs${t}`).Id).slice(0, 12)}`)).toContain(`${v6}1/64`);
  const other = await svc.attach(req('other', { NetworkMode: `rs${t}` }));
  expect((other.settings.Networks as any)[`rs${t}`].GlobalIPv6Address).not.toBe(namedIp6);
  expect(await inNs(other.netnsPath!, `busybox ping6 -c 1 -W 5 ${namedIp6}`)).toContain('1 packets received');

  for (const c of children.splice(1)) c.kill();
  for (const id of ids) await svc.detach(id);
  const bridges = svc.list({ driver: ['bridge'] }).map((x: any) => x.Options['com.docker.network.bridge.name'] ?? `br-${x.Id.slice(0, 12)}`);
  await svc.shutdown();
  for (const br of bridges) expect(await shOk(`ip link show ${br}`)).toBe(false);
  expect(await shOk(`nft list table ip ${table}`)).toBe(false);
  expect(await sh('ip -br link')).not.toMatch(new RegExp(`veth.*@.*${bridge}`));
  expect(readdirSync(join(opts.execRoot, 'netns'))).toEqual([]);
  svc = await NetworkService.open(opts); // for afterAll
});
