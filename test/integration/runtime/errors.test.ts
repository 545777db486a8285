/**
 * Bad input: one clear line on stderr, a JSON record in --log with --log-format json,
 * exit status 1 — and a failed create leaves no state, cgroup, mount or process.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Harness, cgroupDir } from './harness.js';

let h: Harness;
beforeAll(() => { h = new Harness(); });
afterAll(() => h?.cleanup());

/** Runs with a JSON log; checks exit 1, one stderr line, one matching log record. */
function fails(args: string[], message: RegExp): void {
  const log = join(h.work, `log-${Math.random().toString(16).slice(2)}.json`);
  const r = h.rt(args, { globals: ['--log', log, '--log-format', 'json'] });
  expect(r.status).toBe(1);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^berth-runtime: /);
  expect(lines[0]).toMatch(message);
  const records = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string; time: string });
  expect(records).toHaveLength(1);
  expect(records[0].level).toBe('error');
  expect(records[0].msg).toMatch(message);
  expect(Number.isNaN(Date.parse(records[0].time))).toBe(false);
}

test('a missing bundle', () => {
  fails(['create', '--bundle', join(h.work, 'nope'), h.id()], /bundle .*nope/);
  const empty = join(h.work, 'empty-bundle');
  mkdirSync(empty);
  fails(['create', '--bundle', empty, h.id()], /has no config\.json/);
});

test('a malformed config.json', () => {
  const dir = join(h.work, 'bad-json');
  mkdirSync(dir);
  writeFileSync(join(dir, 'config.json'), '{"ociVersion": "1.2.0", "process": {');
  fails(['run', '--bundle', dir, h.id()], /config\.json is not valid JSON/);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ociVersion: '1.2.0', root: { path: h.rootfs }, process: { args: [], cwd: '/' } }));
  fails(['run', '--bundle', dir, h.id()], /process\.args must be a non-empty array/);
});

test('an unknown ID', () => {
  for (const verb of [['state'], ['start'], ['kill'], ['delete'], ['pause'], ['exec']]) {
    fails([...verb, 'no-such-container', ...(verb[0] === 'exec' ? ['true'] : [])], /container `no-such-container` does not exist/);
  }
  fails(['state', '../escape'], /invalid container ID/);
});

test('a duplicate ID, kill of a stopped container, delete of a running one', async () => {
  const id = h.id();
  const b = h.bundle({ id, args: ['sleep', '60'] });
  expect(h.rt(['run', '-d', '--bundle', b.dir, id]).status).toBe(0);
  fails(['create', '--bundle', b.dir, id], /already exists/);
  expect(h.state(id).status).toBe('running'); // the failed create did not touch it
  fails(['delete', id], /cannot delete container .* running/);
  fails(['start', id], /cannot start container .* running/);
  expect(h.rt(['kill', id, 'KILL']).status).toBe(0);
  await h.waitStatus(id, 'stopped');
  fails(['kill', id], /not running/);
  fails(['kill', id, 'NOSIG'], /unknown signal/);
  expect(h.rt(['delete', id]).status).toBe(0);
});

test('a failed create leaves no state dir, cgroup, mount or process behind', () => {
  for (const [what, edit, message] of [
    ['a bind source that is missing', (s: Record<string, any>) => { s.mounts.push({ destination: '/x', type: 'bind', source: '/no/such/dir', options: ['rbind'] }); }, /bind mount source .*\/no\/such\/dir/],
    ['a command that does not exist', (s: Record<string, any>) => { s.process.args = ['/bin/no-such-binary']; }, /no-such-binary/],
    ['a cwd that does not exist', (s: Record<string, any>) => { s.process.cwd = '/no/where'; }, /cwd/],
    ['an impossible cgroup value', (s: Record<string, any>) => { s.linux.resources.cpu = { cpus: '999' }; }, /cpuset\.cpus/],
    ['an unknown capability', (s: Record<string, any>) => { s.process.capabilities.bounding.push('CAP_FLY'); }, /unknown capability `CAP_FLY`/],
  ] as const) for (const verb of ['create', 'run', 'run --detach']) {
    const id = h.id();
    const sock = join(h.work, `${id}.sock`);
    const b = h.bundle({ id, args: ['sleep', '60'], edit, annotations: { 'io.berth.monitor.socket': sock } });
    fails([...verb.split(' '), '--bundle', b.dir, id], message);
    expect({ what, state: existsSync(join(h.root, id)), sock: existsSync(sock) }).toEqual({ what, state: false, sock: false });
    for (const c of ['memory', 'pids', 'cpu', 'cpuset']) expect({ what, c, cg: existsSync(cgroupDir(c, h.cgroupsPath(id))) }).toEqual({ what, c, cg: false });
    expect({ what, mounts: readFileSync('/proc/self/mountinfo', 'utf8').includes(h.rootfs) }).toEqual({ what, mounts: false });
    const leftovers = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(id); } catch { return false; }
    });
    expect({ what, leftovers }).toEqual({ what, leftovers: [] });
  }
});

test('usage errors name the fix', () => {
  fails(['create'], /exactly one container ID/);
  fails(['frobnicate'], /unknown command `frobnicate`/);
  fails(['exec', 'x'], /does not exist|needs a command/);
});
