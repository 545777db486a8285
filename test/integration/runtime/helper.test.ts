/**
 * `berth-runtime helper` through the engine's Spawner: commands with stdin and their
 * outputs and statuses, and the built-in ops (mounts, network namespaces, rm -rf)
 * on the real kernel.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spawner } from '../../../engine/runtime/spawner.js';
import { runtimePath } from '../../../src/common/paths.js';
import { Harness } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-helper-'));
const sp = new Spawner(runtimePath(), join(dir, 'spawn'));
const mounted = (p: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === p);

afterAll(() => {
  for (const l of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').reverse()) {
    const p = l.split(' ')[4];
    if (p?.startsWith(dir)) execFileSync('umount', ['-l', p]);
  }
  rmSync(dir, { recursive: true, force: true });
});

test('exec: stdin with quotes and newlines, stdout back, stderr and the status of a failure', async () => {
  const input = `a 'quoted' "line"\n\ttab $HOME \\ end\n`;
  const ok = await sp.run(['cat'], { stdout: true, stderr: true }, input);
  expect(ok).toEqual({ code: 0, stdout: input, stderr: '' });
  const bad = await sp.run(['sh', '-c', 'echo out; echo "went wrong" >&2; exit 3']);
  expect(bad).toEqual({ code: 3, stdout: 'out\n', stderr: 'went wrong\n' });
  const missing = await sp.run(['berth-no-such-command']);
  expect(missing.code).toBe(127);
  expect(missing.stderr).toMatch(/berth-no-such-command: No such file or directory/);
  // Commands run side by side, and no output file is left behind.
  const many = await Promise.all([1, 2, 3, 4, 5].map((n) => sp.run(['sh', '-c', `sleep 0.2; echo ${n}`])));
  expect(many.map((r) => r.stdout)).toEqual(['1\n', '2\n', '3\n', '4\n', '5\n']);
  expect(readdirSync(join(dir, 'spawn'))).toEqual([]);
});

test('mount: overlay once (a second call on a mount point is a no-op), bind read-only; umount is lazy and idempotent', async () => {
  for (const d of ['lower', 'upper', 'work', 'merged', 'bound']) mkdirSync(join(dir, d));
  writeFileSync(join(dir, 'lower', 'f'), 'from lower');
  const merged = join(dir, 'merged');
  const data = `lowerdir=${join(dir, 'lower')},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`;
  await sp.mount({ type: 'overlay', source: 'overlay', target: merged, data });
  await sp.mount({ type: 'overlay', source: 'overlay', target: merged, data });
  expect(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === merged)).toHaveLength(1);
  expect(readFileSync(join(merged, 'f'), 'utf8')).toBe('from lower');
  writeFileSync(join(merged, 'g'), 'new');
  expect(existsSync(join(dir, 'upper', 'g'))).toBe(true);

  const bound = join(dir, 'bound');
  await sp.mount({ type: 'bind', source: join(dir, 'lower'), target: bound, bind: true, ro: true });
  expect(() => writeFileSync(join(bound, 'x'), 'x')).toThrow(/EROFS/);

  await sp.umount(merged);
  await sp.umount(bound);
  expect(mounted(merged) || mounted(bound)).toBe(false);
  await sp.umount(merged);
  await expect(sp.mount({ type: 'overlay', source: 'overlay', target: join(dir, 'nowhere'), data })).rejects.toThrow(/mount .*nowhere: No such file or directory/);
});

test('netns: a namespace with lo up bound at the path; netns-rm unbinds and removes it', async () => {
  const ns = join(dir, 'ns1');
  await sp.netns(ns);
  expect(mounted(ns)).toBe(true);
  const links = JSON.parse(execFileSync('nsenter', [`--net=${ns}`, 'ip', '-j', 'link', 'show'], { encoding: 'utf8' })) as Array<{ ifname: string; flags: string[] }>;
  expect(links.map((l) => l.ifname)).toEqual(['lo']);
  expect(links[0].flags).toContain('UP');
  await sp.netnsRemove(ns);
  expect(mounted(ns) || existsSync(ns)).toBe(false);
  await sp.netnsRemove(ns);
});

test('rm: removes a tree with symlinks (not their targets), refuses to cross a mount point', async () => {
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'a', 'b'), { recursive: true });
  writeFileSync(join(tree, 'a', 'b', 'f'), 'x');
  writeFileSync(join(dir, 'outside'), 'kept');
  symlinkSync(join(dir, 'outside'), join(tree, 'a', 'link'));
  mkdirSync(join(tree, 'mnt'));
  execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', join(tree, 'mnt')]);
  writeFileSync(join(tree, 'mnt', 'inside'), 'kept');
  await expect(sp.rm(tree)).rejects.toThrow(/a mount point inside/);
  expect(readFileSync(join(tree, 'mnt', 'inside'), 'utf8')).toBe('kept');
  execFileSync('umount', [join(tree, 'mnt')]);
  await sp.rm(tree);
  expect(existsSync(tree)).toBe(false);
  expect(readFileSync(join(dir, 'outside'), 'utf8')).toBe('kept');
  await sp.rm(tree);
  await expect(sp.rm('relative/path')).rejects.toThrow(/absolute path/);
});

test('runtime: the runtime\'s own verbs in a fork of the helper, with their stdout, stderr and status', async () => {
  const version = await sp.runtime(['--version']);
  expect(version.code).toBe(0);
  expect(version.stdout).toMatch(/^berth-runtime version /);
  const root = join(dir, 'rt-root');
  const missing = await sp.runtime(['--root', root, 'state', 'no-such-container']);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/no-such-container.*does not exist/);
  const usage = await sp.runtime(['frobnicate']);
  expect(usage).toEqual({ code: 1, stdout: '', stderr: expect.stringMatching(/unknown command `frobnicate`/) });
  // getopt starts afresh in every fork (the helper parsed its own command line before).
  const again = await Promise.all([1, 2, 3].map(() => sp.runtime(['--root', root, 'list', '--format', 'json'])));
  expect(again.map((r) => [r.code, r.stderr])).toEqual([[0, ''], [0, ''], [0, '']]);
  expect(readdirSync(join(dir, 'spawn'))).toEqual([]);
});

test('runtime create: the fork becomes the container\'s monitor and answers once it is ready; a failed create answers with its error', async () => {
  const h = new Harness();
  try {
    const id = h.id();
    const b = h.bundle({ id, args: ['sleep', '1000'] });
    const pidFile = join(dir, `${id}.pid`);
    const created = await sp.runtime(['--root', h.root, 'create', '--bundle', b.dir, '--pid-file', pidFile, id]);
    expect(created).toEqual({ code: 0, stdout: '', stderr: '' });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(JSON.parse(h.rt(['state', id]).stdout)).toMatchObject({ status: 'created', pid });
    // The answer came before the monitor's exit: the monitor is the fork itself, a child of the helper.
    const monitorPid = JSON.parse(readFileSync(join(h.root, id, 'state.json'), 'utf8')).monitorPid as number;
    const stat = readFileSync(`/proc/${monitorPid}/stat`, 'utf8');
    expect(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]).not.toBe('Z');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    expect(readFileSync(`/proc/${ppid}/cmdline`, 'utf8').split('\0')).toContain('helper');
    expect(readFileSync(`/proc/${monitorPid}/comm`, 'utf8').trim()).toBe('berth-monitor');
    expect(h.rt(['start', id]).status).toBe(0);
    expect(JSON.parse(h.rt(['state', id]).stdout)).toMatchObject({ status: 'running', pid });

    const missing = await sp.runtime(['--root', h.root, 'create', '--bundle', join(dir, 'no-bundle'), '--pid-file', pidFile, h.id()]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no-bundle/);
    const bad = h.id();
    const failing = await sp.runtime(['--root', h.root, 'create', '--bundle', h.bundle({ id: bad, args: ['/no/such/program'] }).dir, bad]);
    expect(failing.code).toBe(1);
    expect(failing.stderr).toMatch(/no\/such\/program/);
    expect(existsSync(join(h.root, bad))).toBe(false);
  } finally {
    h.cleanup();
  }
  expect(readdirSync(join(dir, 'spawn'))).toEqual([]);
});
