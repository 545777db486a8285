/**
 * The pure cgroup v2 code path, on this hybrid host: each call runs in a private mount
 * namespace where cgroup2 is mounted over /sys/fs/cgroup (the layout of a current
 * distribution). The v2 tree here has no resource controllers, so this covers
 * creating, joining, freezing and removing cgroups, not limits.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Harness, type RunResult } from './harness.js';

let h: Harness;
let v2root: string;
beforeAll(() => {
  h = new Harness();
  // the same cgroup2 hierarchy the host has at /sys/fs/cgroup/unified (hybrid), or the root itself
  v2root = existsSync('/sys/fs/cgroup/unified/cgroup.procs') ? '/sys/fs/cgroup/unified' : '/sys/fs/cgroup';
});
afterAll(() => h?.cleanup());

function rtV2(args: string[]): RunResult {
  const script = 'mount --make-rprivate / && mount -t cgroup2 none /sys/fs/cgroup && exec "$@"';
  return h.rt(args, { wrap: ['unshare', '-m', 'sh', '-c', script, 'sh'] });
}

test('on pure cgroup v2 the container gets its own cgroup, mounted through its cgroup namespace', () => {
  const id = h.id();
  const b = h.bundle({ id, args: ['sh', '-c', 'cat /proc/self/cgroup; ls /sys/fs/cgroup/cgroup.procs'] });
  const r = rtV2(['run', '--bundle', b.dir, id]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^0::\/$/m); // rooted at its own cgroup by the cgroup namespace
  expect(r.stdout).toMatch(/\/sys\/fs\/cgroup\/cgroup\.procs/);
  expect(existsSync(join(v2root, h.cgroupsPath(id)))).toBe(false);
});

test('on pure cgroup v2 pause/resume use cgroup.freeze and delete removes the cgroup', () => {
  const id = h.id();
  const b = h.bundle({ id, args: ['sleep', '60'] });
  expect(rtV2(['run', '-d', '--bundle', b.dir, id]).status).toBe(0);
  expect(existsSync(join(v2root, h.cgroupsPath(id), 'cgroup.procs'))).toBe(true);
  expect(rtV2(['pause', id]).status).toBe(0);
  expect(JSON.parse(rtV2(['state', id]).stdout).status).toBe('paused');
  expect(rtV2(['resume', id]).status).toBe(0);
  expect(JSON.parse(rtV2(['state', id]).stdout).status).toBe('running');
  const del = rtV2(['delete', '--force', id]);
  expect(del.stderr).toBe('');
  expect(existsSync(join(v2root, h.cgroupsPath(id)))).toBe(false);
});

test('on pure cgroup v2 device rules are enforced by an eBPF program on the container cgroup', () => {
  const id = h.id();
  const b = h.bundle({
    id,
    args: ['sh', '-c', 'echo x > /dev/null && echo null-ok; head -c1 /dev/kmsg-test 2>&1; echo rc=$?; head -c1 /dev/zero | wc -c'],
    edit: (s) => {
      s.linux.devices = [{ path: '/dev/kmsg-test', type: 'c', major: 1, minor: 11, fileMode: 0o644 }];
      s.linux.resources.devices.push({ allow: true, type: 'c', major: 1, minor: 11, access: 'm' });
    },
  });
  const r = rtV2(['run', '--bundle', b.dir, id]);
  expect(r.stderr).toBe('');
  expect(r.stdout).toMatch(/null-ok/);
  expect(r.stdout).toMatch(/Operation not permitted/);
  expect(r.stdout).toMatch(/rc=1/);
  expect(r.stdout).toMatch(/^1$/m); // /dev/zero, allowed by default, reads
});
