/**
 * CVE-2019-5736 class: a process in a container that reaches a runtime process through
 * /proc/<pid>/exe (here the init of a created container in its pid namespace, which is
 * still runtime code) finds a read-only view or a sealed copy, never a writable host
 * berth-runtime. Also when the container is created by a fork of the engine's helper
 * (its `runtime` op: no exec at all, the helper runs from the view).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Spawner } from '../../../engine/runtime/spawner.js';
import { Harness, RUNTIME } from './harness.js';

let h: Harness;
let overlay: string | undefined;
beforeAll(() => { h = new Harness(); });
afterAll(() => {
  if (overlay) execFileSync('umount', ['-l', overlay]);
  h?.cleanup();
});

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

type Create = (runtime: string, args: string[]) => Promise<{ status: number | null; stderr: string }>;
const byExec: Create = async (runtime, args) => h.rt(args, { runtime });
const byHelper: Create = async (runtime, args) => {
  const r = await new Spawner(runtime, join(h.work, 'spawn')).runtime(['--root', h.root, ...args]);
  return { status: r.code, stderr: r.stderr };
};

/** From a container in the pid namespace of a created (not started) one, try to write its init's exe. */
async function attack(runtime: string, create: Create = byExec): Promise<string> {
  const before = sha(runtime);
  const host = statSync(runtime);
  const victim = h.id();
  const b = h.bundle({ id: victim, args: ['true'] });
  const c = await create(runtime, ['create', '--bundle', b.dir, victim]);
  expect(c.stderr).toBe('');
  expect(c.status).toBe(0);
  const pid = h.state(victim).pid as number;
  // The attacker has every capability that matters here (ptrace to reach /proc/1/exe).
  const r = h.run({
    capabilities: ['CAP_SYS_PTRACE', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER'],
    args: ['sh', '-c', [
      'echo exe=$(readlink /proc/1/exe)',
      'echo id=$(stat -L -c %d:%i /proc/1/exe)',
      'exec 3</proc/1/exe',
      '(printf evil >>/proc/1/exe) 2>/dev/null && echo WROTE-DIRECT || echo direct-refused',
      '(printf evil >>/proc/self/fd/3) 2>/dev/null && echo WROTE-REOPEN || echo reopen-refused',
      '(printf evil 1<>/proc/1/exe) 2>/dev/null && echo WROTE-RDWR || echo rdwr-refused',
    ].join('; ')],
    edit: (s) => { s.linux.namespaces = s.linux.namespaces.map((ns: { type: string }) => ns.type === 'pid' ? { type: 'pid', path: `/proc/${pid}/ns/pid` } : ns); },
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^id=\d+:\d+$/m);
  expect(r.stdout).not.toMatch(new RegExp(`^id=${host.dev}:${host.ino}$`, 'm'));
  expect(r.stdout).toMatch(/direct-refused/);
  expect(r.stdout).toMatch(/reopen-refused/);
  expect(r.stdout).toMatch(/rdwr-refused/);
  expect(sha(runtime)).toBe(before);
  expect(h.rt(['delete', '--force', victim]).status).toBe(0);
  return r.stdout;
}

test('the init runs from a read-only overlayfs view of the binary', async () => {
  expect(await attack(RUNTIME)).toMatch(/^exe=\/berth-runtime$/m);
});

test('created by a fork of the helper, the init runs from the view too, and its monitor names its container', async () => {
  expect(await attack(RUNTIME, byHelper)).toMatch(/^exe=\/berth-runtime$/m);
  const id = h.id();
  const b = h.bundle({ id, args: ['sleep', '60'] });
  expect(await byHelper(RUNTIME, ['create', '--bundle', b.dir, id])).toEqual({ status: 0, stderr: '' });
  const mon = JSON.parse(readFileSync(join(h.root, id, 'state.json'), 'utf8')).monitorPid as number;
  expect(mon).toBeGreaterThan(0);
  expect(readFileSync(`/proc/${mon}/cmdline`, 'utf8').split('\0').filter(Boolean)).toEqual([RUNTIME, '--root', h.root, 'create', '--bundle', b.dir, id]);
  expect(h.rt(['delete', '--force', id]).status).toBe(0);
});

test('where no view can be stacked (the binary on a writable overlayfs), from a sealed memfd copy', async () => {
  const base = join(h.work, 'ovl');
  for (const d of ['lower', 'upper', 'work', 'merged']) mkdirSync(join(base, d), { recursive: true });
  copyFileSync(RUNTIME, join(base, 'lower', 'berth-runtime'));
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${base}/lower,upperdir=${base}/upper,workdir=${base}/work`, `${base}/merged`]);
  overlay = `${base}/merged`;
  expect(await attack(join(overlay, 'berth-runtime'))).toMatch(/^exe=\/memfd:berth-runtime/m);
  expect(await attack(join(overlay, 'berth-runtime'), byHelper)).toMatch(/^exe=\/memfd:berth-runtime/m);
});
