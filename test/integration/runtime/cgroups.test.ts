/**
 * linux.resources on the host's cgroups (v1 per controller here, or pure v2):
 * a memory limit OOM-kills with 137, a pids limit stops forks, a cpu quota holds,
 * and the container's cgroups are gone once it is deleted.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Harness, cgroupDir, cgroupV2 } from './harness.js';

let h: Harness;
beforeAll(() => { h = new Harness(); });
afterAll(() => h?.cleanup());

test('a memory limit OOM-kills the container: exit 137 and oomKilled in state', async () => {
  const id = h.id();
  const b = h.bundle({
    id, args: ['sh', '-c', 'x=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; while true; do x=$x$x; done'],
    resources: { memory: { limit: 32 * 1024 * 1024, swap: 32 * 1024 * 1024 } },
  });
  const r = h.rt(['run', '--detach', '--bundle', b.dir, id]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const limitFile = cgroupV2() ? 'memory.max' : 'memory.limit_in_bytes';
  expect(readFileSync(join(cgroupDir('memory', h.cgroupsPath(id)), limitFile), 'utf8').trim()).toBe(String(32 * 1024 * 1024));
  const st = await h.waitStatus(id, 'stopped');
  expect(st.exitCode).toBe(137);
  expect(st.oomKilled).toBe(true);
  expect(h.rt(['delete', id]).status).toBe(0);
  expect(existsSync(cgroupDir('memory', h.cgroupsPath(id)))).toBe(false);
});

test('a pids limit stops forks', () => {
  const id = h.id();
  const b = h.bundle({
    id, args: ['sh', '-c', 'sh -c "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 1 & done; wait" 2>&1; echo after'],
    resources: { pids: { limit: 6 } },
  });
  const r = h.rt(['run', '--bundle', b.dir, id]);
  expect(r.stdout + r.stderr).toMatch(/can't fork|Resource temporarily unavailable/);
  expect(r.stdout).toMatch(/after/);
  expect(existsSync(cgroupDir('pids', h.cgroupsPath(id)))).toBe(false); // run removes its container
});

test('a cpu quota is set (read back inside and outside) and throttles a busy loop', async () => {
  const id = h.id();
  const b = h.bundle({
    id, args: ['sh', '-c', 'while :; do :; done'],
    resources: { cpu: { quota: 10000, period: 100000, shares: 512 } },
  });
  expect(h.rt(['run', '--detach', '--bundle', b.dir, id]).status).toBe(0);
  const dir = cgroupDir('cpu', h.cgroupsPath(id));
  if (cgroupV2()) {
    expect(readFileSync(join(dir, 'cpu.max'), 'utf8').trim()).toBe('10000 100000');
  } else {
    expect(readFileSync(join(dir, 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('10000');
    expect(readFileSync(join(dir, 'cpu.cfs_period_us'), 'utf8').trim()).toBe('100000');
    expect(readFileSync(join(dir, 'cpu.shares'), 'utf8').trim()).toBe('512');
    const inside = h.rt(['exec', id, 'cat', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us']);
    expect(inside.stdout.trim()).toBe('10000');
  }
  // The quota holds: the kernel throttles the loop, period after period.
  const throttled = () => Number(/nr_throttled (\d+)/.exec(readFileSync(join(dir, 'cpu.stat'), 'utf8'))![1]);
  const end = Date.now() + 20000;
  while (throttled() < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  expect(throttled()).toBeGreaterThanOrEqual(3);
  expect(h.rt(['delete', '--force', id]).status).toBe(0);
  expect(existsSync(dir)).toBe(false);
});

test('update changes the limits of a running container', async () => {
  const id = h.id();
  const b = h.bundle({ id, args: ['sleep', '30'], resources: { pids: { limit: 50 } } });
  expect(h.rt(['run', '--detach', '--bundle', b.dir, id]).status).toBe(0);
  const file = join(h.work, 'res.json');
  writeFileSync(file, JSON.stringify({ pids: { limit: 7 } }));
  const r = h.rt(['update', '--resources', file, id]);
  expect(r.stderr).toBe('');
  expect(readFileSync(join(cgroupDir('pids', h.cgroupsPath(id)), 'pids.max'), 'utf8').trim()).toBe('7');
  const ps = JSON.parse(h.rt(['ps', '--format', 'json', id]).stdout) as number[];
  expect(ps.length).toBe(1);
  expect(readFileSync(`/proc/${ps[0]}/cmdline`, 'utf8')).toMatch(/^sleep\0/);
  expect(h.rt(['delete', '--force', id]).status).toBe(0);
});

test('the device cgroup denies what the spec denies', () => {
  const r = h.run({
    args: ['sh', '-c', 'echo ok > /dev/null && echo null-ok; head -c1 /dev/kmsg-test 2>&1; echo rc=$?'],
    edit: (s) => {
      s.linux.devices = [{ path: '/dev/kmsg-test', type: 'c', major: 1, minor: 11, fileMode: 0o644 }];
      // mknod allowed, read and write not
      s.linux.resources.devices.push({ allow: true, type: 'c', major: 1, minor: 11, access: 'm' });
    },
  });
  expect(r.stdout).toMatch(/null-ok/);
  if (!cgroupV2()) expect(r.stdout).toMatch(/Operation not permitted/);
  expect(r.stdout).toMatch(/rc=1/);
});

test('memory reservation and swap, blkio throttles and oomScoreAdj are applied', () => {
  const id = h.id();
  const dev = statSync('/').dev;
  const major = Math.floor(dev / 256) & 0xfff, minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
  const b = h.bundle({
    id, args: ['sh', '-c', 'cat /proc/self/oom_score_adj; sleep 30'],
    resources: {
      memory: { limit: 64 << 20, reservation: 32 << 20, swap: 96 << 20 },
      blockIO: { weight: 300, throttleReadBpsDevice: [{ major, minor, rate: 1048576 }] },
    },
    edit: (s) => { s.process.oomScoreAdj = 321; },
  });
  expect(h.rt(['run', '-d', '--bundle', b.dir, id]).stderr).toBe('');
  const mem = cgroupDir('memory', h.cgroupsPath(id));
  if (cgroupV2()) {
    expect(readFileSync(join(mem, 'memory.low'), 'utf8').trim()).toBe(String(32 << 20));
  } else {
    expect(readFileSync(join(mem, 'memory.soft_limit_in_bytes'), 'utf8').trim()).toBe(String(32 << 20));
    if (existsSync(join(mem, 'memory.memsw.limit_in_bytes'))) {
      expect(readFileSync(join(mem, 'memory.memsw.limit_in_bytes'), 'utf8').trim()).toBe(String(96 << 20));
    }
    const blkio = cgroupDir('blkio', h.cgroupsPath(id));
    expect(readFileSync(join(blkio, 'blkio.throttle.read_bps_device'), 'utf8')).toMatch(new RegExp(`^${major}:${minor} 1048576$`, 'm'));
  }
  const pid = h.state(id).pid as number;
  expect(readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8').trim()).toBe('321');
  expect(h.rt(['delete', '--force', id]).status).toBe(0);
});

// On cgroup v1 the container process moves itself in (through `tasks`, the cheap way);
// in a new user namespace the runtime moves it, as its root cannot write the host's files.
test.each([
  ['its own namespaces', undefined],
  ['a new user namespace', (s: any) => {
    s.linux.namespaces.push({ type: 'user' });
    s.linux.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    s.linux.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
  }],
])('the container process is in its cgroup in every hierarchy (%s)', (_, edit) => {
  const id = h.id();
  const b = h.bundle({ id, args: ['sleep', '30'], edit });
  expect(h.rt(['run', '-d', '--bundle', b.dir, id]).stderr).toBe('');
  const pid = h.state(id).pid as number;
  // Every line: each v1 hierarchy, named ones (name=systemd), and a hybrid host's cgroup2 one (clone3 puts it there).
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  expect(lines.length).toBeGreaterThan(cgroupV2() ? 0 : 5);
  for (const line of lines) expect({ line, path: line.split(':')[2] }).toEqual({ line, path: h.cgroupsPath(id) });
  for (const controller of cgroupV2() ? ['cpu'] : ['cpu', 'memory', 'pids', 'devices', 'freezer']) {
    expect(readFileSync(join(cgroupDir(controller, h.cgroupsPath(id)), 'cgroup.procs'), 'utf8').trim()).toBe(String(pid));
  }
  expect(h.rt(['delete', '--force', id]).status).toBe(0);
});

test("exec's process joins the container's cgroup in every hierarchy", () => {
  const id = h.id();
  const b = h.bundle({ id, args: ['sleep', '30'] });
  expect(h.rt(['run', '-d', '--bundle', b.dir, id]).stderr).toBe('');
  const r = h.rt(['exec', id, 'sh', '-c', 'cat /proc/self/cgroup; echo ---; cat /proc/1/cgroup']);
  expect(r.stderr).toBe('');
  const [self, init] = r.stdout.split('---\n').map((s) => s.trim().split('\n').sort());
  expect(self.length).toBeGreaterThan(0);
  expect(self).toEqual(init);
  expect(h.rt(['delete', '--force', id]).status).toBe(0);
});
