/**
 * The compiled seccomp filter cache: <root>/.seccomp-cache/<sha256>.bpf. A first run
 * compiles and stores the program, later runs with the same profile load it, and a
 * corrupt entry is ignored and replaced; the filter denies the same syscalls every time.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Harness } from './harness.js';

let h: Harness;
beforeAll(() => { h = new Harness(); });
afterAll(() => h?.cleanup());

const profile = {
  defaultAction: 'SCMP_ACT_ALLOW',
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  syscalls: [
    { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
    { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 1, value: 0, op: 'SCMP_CMP_EQ' }] },
  ],
};

const cacheDir = () => join(h.root, '.seccomp-cache');
const entries = () => (existsSync(cacheDir()) ? readdirSync(cacheDir()).filter((f) => f.endsWith('.bpf')).sort() : []);

/** Runs the denial check of isolation.test.ts under `seccomp` and expects the filter to hold. */
function expectDenied(seccomp: object = profile): void {
  const r = h.run({
    args: ['sh', '-c', 'mkdir /tmp/d 2>&1; echo mkdir=$?; kill -0 1 2>&1; echo kill0=$?; touch /tmp/f && echo touch=ok'],
    edit: (s) => { s.linux.seccomp = seccomp; },
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/Operation not permitted/);
  expect(r.stdout).toMatch(/mkdir=1/);
  expect(r.stdout).toMatch(/kill0=1/);
  expect(r.stdout).toMatch(/touch=ok/);
}

test('a run stores the filter, the next run loads it, and a corrupt entry is rebuilt', () => {
  expect(entries()).toEqual([]);
  expectDenied();
  const [name] = entries();
  expect(entries()).toEqual([expect.stringMatching(/^[0-9a-f]{64}\.bpf$/)]);
  expect(statSync(cacheDir()).mode & 0o777).toBe(0o700);
  const file = join(cacheDir(), name);
  const program = readFileSync(file);
  expect(program.length).toBeGreaterThan(0);
  expect(program.length % 8).toBe(0); // struct sock_filter
  const ino = statSync(file).ino;

  // Same profile (members reordered): a hit, the entry is not rewritten.
  expectDenied({ syscalls: profile.syscalls, architectures: profile.architectures, defaultAction: profile.defaultAction });
  expect(entries()).toEqual([name]);
  expect(statSync(file).ino).toBe(ino);

  // Garbage (not a whole number of instructions), then a truncated but aligned program:
  // both are ignored, the filter still denies, and the entry is the real program again.
  for (const bad of [Buffer.from('not a filter!'), program.subarray(0, 16)]) {
    writeFileSync(file, bad);
    expectDenied();
    expect(entries()).toEqual([name]);
    expect(readFileSync(file).equals(program)).toBe(true);
  }

  // Another profile is another entry.
  expectDenied({ ...profile, syscalls: [...profile.syscalls, { names: ['chroot'], action: 'SCMP_ACT_ERRNO' }] });
  expect(entries()).toHaveLength(2);
});

test('exec loads the container\'s filter from the cache too', () => {
  const id = h.id();
  const b = h.bundle({ id, args: ['sleep', '60'], edit: (s) => { s.linux.seccomp = profile; } });
  expect(h.rt(['run', '-d', '--bundle', b.dir, id]).status).toBe(0);
  const before = entries();
  const r = h.rt(['exec', id, 'sh', '-c', 'mkdir /tmp/e 2>&1; echo mkdir=$?']);
  expect(r.stdout).toMatch(/Operation not permitted/);
  expect(r.stdout).toMatch(/mkdir=1/);
  expect(entries()).toEqual(before);
  expect(h.rt(['delete', '--force', id]).status).toBe(0);
});
