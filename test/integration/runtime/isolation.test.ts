/**
 * What a process sees from inside a berth-runtime container: namespaces, mounts,
 * capabilities, no_new_privs, seccomp, read-only and masked paths, rlimits, user.
 */
import { statSync } from 'node:fs';
import { readlinkSync, getrlimit } from './procinfo.js';
import { Harness } from './harness.js';

let h: Harness;
beforeAll(() => { h = new Harness(); });
afterAll(() => h?.cleanup());

function sh(script: string, opts: Parameters<Harness['run']>[0] = {}) {
  return h.run({ args: ['sh', '-c', script], ...opts });
}

function field(status: string, name: string): string {
  const m = new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(status);
  if (!m) throw new Error(`${name} missing in:\n${status}`);
  return m[1];
}

test('the process is pid 1 of its own pid namespace and sees no host process', () => {
  const r = sh('echo pid=$$; ls /proc | grep -E "^[0-9]+$" | tr "\\n" " "; echo; test -e /proc/' + process.pid + ' && echo HOSTPID-VISIBLE || echo hostpid-hidden');
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^pid=1$/m);
  const pids = r.stdout.split('\n')[1].trim().split(/\s+/).map(Number);
  expect(Math.max(...pids)).toBeLessThan(10);
  expect(r.stdout).toMatch(/hostpid-hidden/);
});

test('hostname, IPC, network, mount and cgroup namespaces are its own', () => {
  const r = sh('hostname; for n in ipc uts net mnt cgroup; do readlink /proc/self/ns/$n; done; cat /proc/self/mountinfo', { hostname: 'box-1' });
  expect(r.status).toBe(0);
  const lines = r.stdout.split('\n');
  expect(lines[0]).toBe('box-1');
  ['ipc', 'uts', 'net', 'mnt', 'cgroup'].forEach((ns, i) => {
    expect(lines[1 + i]).toMatch(new RegExp(`^${ns}:\\[\\d+\\]$`));
    expect(lines[1 + i]).not.toBe(readlinkSync(`/proc/self/ns/${ns}`));
  });
  const mountinfo = lines.slice(6).join('\n');
  expect(mountinfo).toMatch(new RegExp(`^\\d+ \\d+ \\S+ ${h.rootfs} / `, 'm')); // the rootfs is the root
  expect(mountinfo).toMatch(/ \/proc .* - proc /);
  expect(mountinfo).toMatch(/ \/dev\/pts .* - devpts /);
  expect(mountinfo).not.toMatch(new RegExp(` ${h.work} `)); // no host mount shows
  expect(mountinfo).not.toMatch(/ \/work\b/);
});

test('capabilities are exactly the configured sets (CapEff, CapBnd) and no_new_privs is set', () => {
  const r = sh('cat /proc/self/status', { capabilities: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW'], noNewPrivileges: true });
  expect(r.status).toBe(0);
  const want = ((1n << 0n) | (1n << 5n) | (1n << 13n)).toString(16).padStart(16, '0');
  expect(field(r.stdout, 'CapEff')).toBe(want);
  expect(field(r.stdout, 'CapBnd')).toBe(want);
  expect(field(r.stdout, 'CapPrm')).toBe(want);
  expect(field(r.stdout, 'NoNewPrivs')).toBe('1');
});

test('without noNewPrivileges the flag stays off; an empty cap list drops everything', () => {
  const r = sh('cat /proc/self/status', { capabilities: [], noNewPrivileges: false });
  expect(r.status).toBe(0);
  expect(field(r.stdout, 'NoNewPrivs')).toBe('0');
  expect(field(r.stdout, 'CapEff')).toBe('0000000000000000');
  expect(field(r.stdout, 'CapBnd')).toBe('0000000000000000');
});

test('seccomp denies the denied syscalls, with argument filters, and allows the rest', () => {
  const seccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [
      { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
      { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 1, value: 0, op: 'SCMP_CMP_EQ' }] },
      { names: ['no_such_syscall_in_this_kernel'], action: 'SCMP_ACT_ERRNO' },
    ],
  };
  const r = sh('mkdir /tmp/d 2>&1; echo mkdir=$?; kill -0 1 2>&1; echo kill0=$?; kill -CONT 1; echo cont=$?; touch /tmp/f && echo touch=ok',
    { edit: (s) => { s.linux.seccomp = seccomp; } });
  expect(r.stdout).toMatch(/Operation not permitted/);
  expect(r.stdout).toMatch(/mkdir=1/);
  expect(r.stdout).toMatch(/Permission denied/);
  expect(r.stdout).toMatch(/kill0=1/);
  expect(r.stdout).toMatch(/cont=0/);
  expect(r.stdout).toMatch(/touch=ok/);
  // the same script without the filter: mkdir works
  const free = sh('mkdir /tmp/d2 && echo mkdir=ok');
  expect(free.stdout).toMatch(/mkdir=ok/);
});

test('a read-only rootfs refuses writes; tmpfs mounts stay writable', () => {
  const r = sh('touch /newfile 2>&1; echo rc=$?; touch /dev/shm/x && echo shm=ok', { readonly: true });
  expect(r.stdout).toMatch(/Read-only file system/);
  expect(r.stdout).toMatch(/rc=1/);
  expect(r.stdout).toMatch(/shm=ok/);
});

test('masked paths are empty and read-only paths refuse writes', () => {
  const r = sh('wc -c < /proc/keys; wc -c < /proc/timer_list; ls -A /sys/firmware | wc -l; (echo 1 > /proc/sys/kernel/domainname) 2>&1; echo rc=$?');
  const lines = r.stdout.trim().split('\n');
  expect(lines[0].trim()).toBe('0');
  expect(lines[1].trim()).toBe('0');
  expect(lines[2].trim()).toBe('0');
  expect(r.stdout).toMatch(/Read-only file system/);
  expect(r.stdout).toMatch(/rc=1/);
});

test('rlimits apply, and a hard limit above the current one is lowered to it, not refused', () => {
  const hostHard = getrlimit('nofile').hard;
  const r = sh('ulimit -n; ulimit -Hn; ulimit -Hc', {
    edit: (s) => {
      s.process.rlimits = [
        { type: 'RLIMIT_NOFILE', soft: 123, hard: hostHard * 10 },
        { type: 'RLIMIT_CORE', soft: 0, hard: 4096 },
      ];
    },
  });
  expect(r.stderr).toBe('');
  expect(r.stdout.trim().split('\n')).toEqual(['123', String(hostHard), '8']);
});

test('user, additional groups, cwd, env and umask come from the process spec', () => {
  const r = sh('id; pwd; echo $GREETING; umask', {
    user: { uid: 1000, gid: 1000, additionalGids: [65534] }, cwd: '/home/user',
    env: ['PATH=/bin:/usr/bin', 'GREETING=hello there'],
    edit: (s) => { s.process.user.umask = 0o027; },
  });
  expect(r.stderr).toBe('');
  const lines = r.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^uid=1000\(user\) gid=1000\(user\) groups=65534\(nogroup\)/);
  expect(lines[1]).toBe('/home/user');
  expect(lines[2]).toBe('hello there');
  expect(lines[3]).toBe('0027');
});

test('sysctls are set inside the container namespaces', () => {
  const r = sh('cat /proc/sys/kernel/domainname /proc/sys/net/ipv4/ip_forward', {
    edit: (s) => { s.linux.sysctl = { 'kernel.domainname': 'berth.test', 'net.ipv4.ip_forward': '1' }; },
  });
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('berth.test\n1\n');
});

test('bind mounts with options, and the cgroup view of the container itself', () => {
  const r = sh('(echo x > /data/new) 2>&1; echo rc=$?; ls /sys/fs/cgroup | tr "\\n" " "; echo; cat /proc/self/cgroup', {
    edit: (s) => {
      s.mounts.push({ destination: '/data', type: 'bind', source: h.work, options: ['rbind', 'ro', 'nosuid'] });
    },
  });
  expect(r.stdout).toMatch(/rc=1/);
  expect(r.stdout).toMatch(/Read-only file system/);
  expect(r.stdout).toMatch(/memory/);
  expect(r.stdout).toMatch(/pids/);
  // the cgroup namespace is rooted at the container's own cgroup
  const cgroups = r.stdout.split('\n').filter((l) => /^\d+:/.test(l));
  expect(cgroups.length).toBeGreaterThan(0);
  // every hierarchy, named (name=systemd) and hybrid cgroup2 too: systemd must not count
  // the container as part of the service that created it
  for (const line of cgroups) expect(line).toMatch(/:\/$/);
});

test('a user namespace maps root to an unprivileged host uid', () => {
  const r = sh('id -u; cat /proc/self/uid_map /proc/self/gid_map; echo hi > /tmp/userns-file && stat -c %u /tmp/userns-file', {
    edit: (s) => {
      s.linux.namespaces.push({ type: 'user' });
      s.linux.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
      s.linux.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    },
  });
  expect(r.stderr).toBe('');
  const lines = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
  expect(lines).toEqual(['0', '0 200000 65536', '0 200000 65536', '0']);
  expect(statSync(`${h.rootfs}/tmp/userns-file`).uid).toBe(200000); // as the host sees it
});

test('namespaces given by path are joined: network and pid of another container', () => {
  const id = h.id();
  const b = h.bundle({ id, args: ['sleep', '30'] });
  expect(h.rt(['run', '-d', '--bundle', b.dir, id]).status).toBe(0);
  const pid = h.state(id).pid as number;
  const r = sh('readlink /proc/self/ns/net; ps -o comm | tr "\\n" " "', {
    edit: (s) => {
      s.linux.namespaces = s.linux.namespaces.map((ns: { type: string }) =>
        ns.type === 'network' || ns.type === 'pid' ? { type: ns.type, path: `/proc/${pid}/ns/${ns.type === 'network' ? 'net' : 'pid'}` } : ns);
    },
  });
  expect(r.stderr).toBe('');
  expect(r.stdout.split('\n')[0]).toBe(readlinkSync(`/proc/${pid}/ns/net`));
  expect(r.stdout).toMatch(/sleep/); // the other container's pid 1, seen from its pid namespace
  expect(h.rt(['delete', '--force', id]).status).toBe(0);
});
