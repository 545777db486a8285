import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startSshHosts, type SshHosts } from '../../fixtures/sshhosts.js';

const ssh = (f: SshHosts, ip: string, cmd: string, key = f.keyPath, user = 'root') => execFileSync('ssh', [
  '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=quiet', '-o', 'BatchMode=yes',
  '-i', key, `${user}@${ip}`, cmd,
], { encoding: 'utf8' });

let f: SshHosts;
beforeAll(async () => { f = await startSshHosts(2); });
afterAll(() => f?.cleanup());

test('namespace hosts have their own address, sshd and /opt', () => {
  const [a, b] = f.hosts;
  expect(ssh(f, a.ip, 'ip -4 -o addr show eth0')).toContain(a.ip);
  ssh(f, a.ip, 'mkdir -p /opt/x && echo A > /opt/x/f');
  expect(ssh(f, a.ip, 'cat /opt/x/f').trim()).toBe('A');
  expect(ssh(f, b.ip, 'cat /opt/x/f 2>/dev/null || echo none').trim()).toBe('none');
  expect(ssh(f, a.ip, 'id -u').trim()).toBe('0');
  expect(ssh(f, a.ip, 'id -u', f.keyPath, f.plainUser).trim()).toBe('4242');
  expect(() => ssh(f, a.ip, 'true', f.wrongKeyPath)).toThrow();
});

test('a fixture whose test process died without cleaning up is swept by the next one', async () => {
  const dead = await startSshHosts(1);
  const ns = dead.hosts[0].ns;
  const bridge = ns.replace(/-\d+$/, '');
  const root = dirname(dead.keyPath);
  // as a test process killed by SIGKILL leaves it: every part in place, its owner gone
  writeFileSync(join(root, 'owner'), String(spawnSync('true').pid));
  const next = await startSshHosts(1);
  try {
    expect(existsSync(`/run/netns/${ns}`)).toBe(false);
    expect(existsSync(`/sys/class/net/${bridge}`)).toBe(false);
    expect(existsSync(root)).toBe(false);
    expect(existsSync(dirname(next.keyPath))).toBe(true); // a live owner's fixture stays
  } finally {
    next.cleanup();
    dead.cleanup();
  }
});

test('cleanup removes the bridge and every namespace, also of a host whose start failed half-way; no host starts after it', async () => {
  const g = await startSshHosts(1);
  const ns = g.hosts[0].ns;
  const bridge = ns.replace(/-\d+$/, '');
  try {
    const namespaces = () => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(`${bridge}-`));
    // Not an address: the namespace is made, then `ip addr add` fails; the namespace goes at once.
    await expect(g.addHost('not-an-address')).rejects.toThrow();
    expect(namespaces()).toEqual([ns]);
    g.cleanup();
    expect(namespaces()).toEqual([]);
    expect(existsSync(`/sys/class/net/${bridge}`)).toBe(false);
    await expect(g.addHost()).rejects.toThrow(/cleanup\(\) ran already/);
    expect(namespaces()).toEqual([]);
  } finally {
    g.cleanup(); // again (nothing left to do), or after a failed expectation
  }
});
