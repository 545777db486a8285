import { buildSpec, type SpecInput } from '../../../../engine/runtime/spec.js';
import { DEFAULT_CAPABILITIES } from '../../../../engine/runtime/defaults.js';
import { validateResources, toOciResources } from '../../../../engine/runtime/resources.js';
import { resolveUser } from '../../../../engine/runtime/user.js';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function input(over: Partial<SpecInput> = {}): SpecInput {
  return {
    id: 'b'.repeat(64), config: {}, hostConfig: {}, rootfs: '/r', args: ['sh'], env: ['PATH=/bin'], cwd: '/',
    user: { uid: 0, gid: 0, additionalGids: [] }, mounts: [],
    etcFiles: { hostname: '/c/hostname', hosts: '/c/hosts', resolvConf: '/c/resolv.conf' },
    network: { mode: 'new' }, cgroupsPath: '/berth/x', annotations: {}, ...over,
  };
}

describe('OCI spec with docker defaults', () => {
  test('default container', () => {
    const { spec } = buildSpec(input());
    expect(spec.process.capabilities!.bounding).toEqual(DEFAULT_CAPABILITIES);
    expect(spec.linux.seccomp!.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(spec.linux.seccomp!.syscalls[0].names).toEqual(expect.arrayContaining(['read', 'write', 'execve']));
    // clone only without namespace flags, mount not at all, without CAP_SYS_ADMIN.
    expect(spec.linux.seccomp!.syscalls.flatMap((r) => r.names)).not.toContain('mount');
    expect(spec.linux.maskedPaths).toContain('/proc/kcore');
    expect(spec.linux.readonlyPaths).toContain('/proc/sys');
    expect(spec.linux.namespaces.map((n) => n.type)).toEqual(['pid', 'ipc', 'uts', 'mount', 'network']);
    expect(spec.mounts.map((m) => m.destination)).toEqual(['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm', '/etc/hostname', '/etc/hosts', '/etc/resolv.conf']);
    expect(spec.hostname).toBe('bbbbbbbbbbbb');
    expect(spec.linux.resources!.devices![0]).toEqual({ allow: false, access: 'rwm' });
  });

  test('privileged, cap-add/drop, seccomp=unconfined, no-new-privileges, init, tmpfs over a default', () => {
    const p = buildSpec(input({ hostConfig: { Privileged: true } })).spec;
    expect(p.linux.seccomp).toBeUndefined();
    expect(p.linux.maskedPaths).toBeUndefined();
    expect(p.process.capabilities!.bounding).toContain('CAP_SYS_ADMIN');
    expect(p.process.capabilities!.bounding.length).toBeGreaterThan(30);
    const c = buildSpec(input({ hostConfig: { CapAdd: ['SYS_ADMIN'], CapDrop: ['NET_RAW'], SecurityOpt: ['no-new-privileges'] } })).spec;
    expect(c.process.capabilities!.bounding).toContain('CAP_SYS_ADMIN');
    expect(c.process.capabilities!.bounding).not.toContain('CAP_NET_RAW');
    expect(c.linux.seccomp!.syscalls.flatMap((r) => r.names)).toContain('mount');
    expect(c.process.noNewPrivileges).toBe(true);
    expect(buildSpec(input({ hostConfig: { SecurityOpt: ['seccomp=unconfined'] } })).spec.linux.seccomp).toBeUndefined();
    // AppArmor and SELinux: refused unless the option asks for no confinement (never ignored silently).
    expect(() => buildSpec(input({ hostConfig: { SecurityOpt: ['apparmor=docker-default'] } }))).toThrow(/does not confine containers with AppArmor.*apparmor=unconfined/);
    expect(() => buildSpec(input({ hostConfig: { SecurityOpt: ['label=type:svirt_lxc_net_t'] } }))).toThrow(/does not apply SELinux labels.*label=disable/);
    expect(() => buildSpec(input({ hostConfig: { SecurityOpt: ['label:level:s0:c100'] } }))).toThrow(/SELinux/);
    expect(buildSpec(input({ hostConfig: { SecurityOpt: ['apparmor=unconfined', 'label=disable', 'label:disable'] } })).warnings).toEqual([]);
    const i = buildSpec(input({ hostConfig: { Init: true }, initBinary: '/usr/bin/berth-runtime' })).spec;
    expect(i.process.args).toEqual(['/sbin/docker-init', '--', 'sh']);
    const t = buildSpec(input({ mounts: [{ type: 'tmpfs', source: 'tmpfs', target: '/dev/shm', readOnly: false, options: ['size=1m'] }] })).spec;
    expect(t.mounts.filter((m) => m.destination === '/dev/shm')).toEqual([{ destination: '/dev/shm', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }]);
  });

  test('host network, sysctls and resources', () => {
    expect(buildSpec(input({ network: { mode: 'host' } })).spec.linux.namespaces.map((n) => n.type)).not.toContain('network');
    expect(() => buildSpec(input({ hostConfig: { Sysctls: { 'kernel.panic': '1' } } }))).toThrow(/not allowed/);
    expect(() => buildSpec(input({ network: { mode: 'host' }, hostConfig: { Sysctls: { 'net.ipv4.ip_forward': '1' } } }))).toThrow(/host network/);
    // Another container's namespace: its settings are not this container's to change (runc refuses too).
    expect(() => buildSpec(input({ network: { mode: 'path', path: '/proc/1/ns/net' }, hostConfig: { NetworkMode: 'container:web', Sysctls: { 'net.ipv4.ip_forward': '1' } } }))).toThrow(/--network container:web.*set it on web/);
    expect(() => buildSpec(input({ network: { mode: 'path', path: '/proc/1/ns/net' }, hostConfig: { NetworkMode: 'container:web', Sysctls: { 'kernel.shmmax': '1' } } }))).not.toThrow();
    // Its own bridge namespace (also a path) takes them.
    expect(buildSpec(input({ network: { mode: 'path', path: '/run/netns/x' }, hostConfig: { NetworkMode: 'bridge', Sysctls: { 'net.ipv4.ip_forward': '1' } } })).spec.linux.sysctl).toEqual({ 'net.ipv4.ip_forward': '1' });
    expect(toOciResources({ NanoCpus: 1.5e9, CpuShares: 512, PidsLimit: 10 })).toMatchObject({ cpu: { period: 100000, quota: 150000, shares: 512 }, pids: { limit: 10 } });
    expect(() => validateResources({ Memory: 1024 })).toThrow(/Minimum memory limit/);
    expect(() => validateResources({ NanoCpus: 1e9, CpuPeriod: 100000 })).toThrow(/Conflicting options/);
  });

  test('users resolve against the rootfs', () => {
    const root = mkdtempSync(join(tmpdir(), 'berth-user-'));
    mkdirSync(join(root, 'etc'));
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nweb:x:1000:1000::/home/web:/bin/sh\n');
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\nweb:x:1000:\naudio:x:29:web\n');
    expect(resolveUser(root, 'web')).toEqual({ uid: 1000, gid: 1000, additionalGids: [29], home: '/home/web' });
    expect(resolveUser(root, '1000:29')).toMatchObject({ uid: 1000, gid: 29 });
    expect(resolveUser(root, '4242')).toMatchObject({ uid: 4242, gid: 0 });
    expect(() => resolveUser(root, 'nobody-here')).toThrow(/unable to find user nobody-here/);
    expect(resolveUser(root, '', ['audio', '7']).additionalGids).toEqual([29, 7]);
    rmSync(root, { recursive: true, force: true });
  });
});
