/**
 * create → start → state → kill → delete, as the engine drives them, and state that
 * stays right after the caller is gone.
 */
import { chmodSync, closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { Harness, RUNTIME, cgroupDir } from './harness.js';

let h: Harness;
beforeAll(() => { h = new Harness(); });
afterAll(() => h?.cleanup());

test('create waits for start; state goes created → running → stopped with the exit code', async () => {
  const id = h.id();
  const marker = join(h.rootfs, 'tmp', `${id}.started`);
  const b = h.bundle({ id, args: ['sh', '-c', `touch /tmp/${id}.started; read x < /tmp/${id}.fifo; exit 3`] });
  const pidFile = join(h.work, `${id}.pid`);
  const r = h.rt(['create', '--bundle', b.dir, '--pid-file', pidFile, id]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  let st = h.state(id);
  expect(st.status).toBe('created');
  expect(st.pid).toBe(Number(readFileSync(pidFile, 'utf8')));
  expect(st.bundle).toBe(b.dir);
  expect(existsSync(marker)).toBe(false); // the process has not run yet
  execFileSync('mkfifo', [join(h.rootfs, 'tmp', `${id}.fifo`)]);
  expect(h.rt(['start', id]).status).toBe(0);
  st = h.state(id);
  expect(st.status).toBe('running');
  expect(typeof st.startedAt).toBe('string');
  writeFileSync(join(h.rootfs, 'tmp', `${id}.fifo`), 'go\n');
  st = await h.waitStatus(id, 'stopped');
  expect(st.exitCode).toBe(3);
  expect(st.oomKilled).toBe(false);
  expect(Date.parse(String(st.finishedAt))).toBeGreaterThanOrEqual(Date.parse(String(st.startedAt)));
  expect(existsSync(marker)).toBe(true);
  expect(h.rt(['delete', id]).status).toBe(0);
  expect(h.rt(['state', id]).status).toBe(1);
  expect(existsSync(cgroupDir('memory', h.cgroupsPath(id)))).toBe(false);
});

test('a container killed by signal N reports 128+N; the state survives the caller', async () => {
  const id = h.id();
  const b = h.bundle({ id, args: ['sleep', '60'] });
  expect(h.rt(['run', '--detach', '--bundle', b.dir, id]).status).toBe(0);
  // the runtime process is gone; the monitor holds the container
  const st = h.state(id);
  expect(st.status).toBe('running');
  expect(h.rt(['kill', id, 'KILL']).status).toBe(0);
  const done = await h.waitStatus(id, 'stopped');
  expect(done.exitCode).toBe(128 + 9);
  expect(h.rt(['delete', id]).status).toBe(0);
});

test('a foreground run exits with the container status and removes it', () => {
  const r = h.run({ args: ['sh', '-c', 'exit 42'] });
  expect(r.status).toBe(42);
  expect(h.rt(['state', r.id]).status).toBe(1);
  expect(existsSync(join(h.root, r.id))).toBe(false);
});

test('pause freezes and resume thaws; list and ps show the container', () => {
  const id = h.id();
  const b = h.bundle({ id, args: ['sleep', '60'] });
  expect(h.rt(['run', '-d', '--bundle', b.dir, id]).status).toBe(0);
  expect(h.rt(['pause', id]).status).toBe(0);
  expect(h.state(id).status).toBe('paused');
  expect(h.rt(['resume', id]).status).toBe(0);
  expect(h.state(id).status).toBe('running');
  const list = JSON.parse(h.rt(['list', '--format', 'json']).stdout) as Array<{ id: string; status: string }>;
  expect(list.find((c) => c.id === id)?.status).toBe('running');
  expect(h.rt(['list']).stdout).toMatch(new RegExp(`^${id}\\t\\d+\\trunning\\t`, 'm'));
  const pids = JSON.parse(h.rt(['ps', id]).stdout) as number[];
  expect(pids).toEqual([h.state(id).pid]);
  expect(h.rt(['delete', '--force', id]).status).toBe(0);
  expect(h.rt(['state', id]).status).toBe(1);
});

test('kill --all signals every process in the cgroup, not only the init', async () => {
  const id = h.id();
  // The init (pid 1 of its namespace) has no TERM handler, so only its child can die of TERM.
  const b = h.bundle({ id, args: ['sh', '-c', 'sleep 60 & wait'] });
  expect(h.rt(['run', '-d', '--bundle', b.dir, id]).status).toBe(0);
  for (let i = 0; i < 400 && (JSON.parse(h.rt(['ps', id]).stdout) as number[]).length < 2; i++) await new Promise((r) => setTimeout(r, 25));
  expect(h.rt(['kill', '--all', id, 'TERM']).status).toBe(0);
  await h.waitStatus(id, 'stopped');
  expect(h.rt(['delete', id]).status).toBe(0);
});

test('exec runs in the container namespaces with its own user, env and cwd', () => {
  const id = h.id();
  const b = h.bundle({ id, args: ['sleep', '60'], hostname: 'exec-box' });
  expect(h.rt(['run', '-d', '--bundle', b.dir, id]).status).toBe(0);
  const r = h.rt(['exec', '--user', '1000:1000', '--env', 'X=y', '--cwd', '/tmp', id, 'sh', '-c', 'hostname; id -u; echo $X; pwd; tr "\\0" " " < /proc/1/cmdline']);
  expect(r.stderr).toBe('');
  expect(r.stdout.trim().split('\n')).toEqual(['exec-box', '1000', 'y', '/tmp', 'sleep 60']);
  expect(h.rt(['exec', id, 'sh', '-c', 'exit 7']).status).toBe(7);
  const procFile = join(h.work, 'proc.json');
  writeFileSync(procFile, JSON.stringify({ args: ['cat', '/etc/hostname'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } }));
  expect(h.rt(['exec', '--process', procFile, id]).stdout).toBe('rootfs\n');
  const missing = h.rt(['exec', id, 'no-such-binary']);
  expect(missing.status).toBe(1);
  expect(missing.stderr).toMatch(/no-such-binary.*not found/);
  expect(h.rt(['delete', '--force', id]).status).toBe(0);
});

test('hooks run at their points with the state on stdin', () => {
  const log = join(h.work, 'hooks.log');
  const hook = join(h.work, 'hook.sh');
  writeFileSync(hook, `#!/bin/sh\necho "$1 $(cat | tr -d '\\n' | grep -o '"status":"[a-z]*"')" >> ${log}\n`);
  chmodSync(hook, 0o755);
  // startContainer runs inside the container: its path and its output are the container's
  const inside = join(h.rootfs, 'start-hook.sh');
  writeFileSync(inside, '#!/bin/sh\necho "$1 $(hostname)" > /tmp/start-hook.out\n');
  chmodSync(inside, 0o755);
  const mk = (name: string) => [{ path: hook, args: ['hook', name] }];
  const r = h.run({
    args: ['true'], hostname: 'hooked',
    edit: (s) => {
      s.hooks = {
        prestart: mk('prestart'), createRuntime: mk('createRuntime'), createContainer: mk('createContainer'),
        startContainer: [{ path: '/start-hook.sh', args: ['start-hook.sh', 'startContainer'] }],
        poststart: mk('poststart'), poststop: mk('poststop'),
      };
    },
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual([
    'prestart "status":"creating"', 'createRuntime "status":"creating"', 'createContainer "status":"created"',
    'poststart "status":"running"', 'poststop "status":"stopped"',
  ]);
  expect(readFileSync(join(h.rootfs, 'tmp', 'start-hook.out'), 'utf8')).toBe('startContainer hooked\n');
});

test('docker-init: the binary as pid 1 reaps zombies and passes the exit status', () => {
  const r = h.run({
    args: ['/sbin/docker-init', '--', 'sh', '-c', 'sleep 0 & exit 5'],
    edit: (s) => {
      s.mounts.push({ destination: '/sbin/docker-init', type: 'bind', source: RUNTIME, options: ['rbind', 'ro'] });
    },
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(5);
});

test('signals to the monitor are forwarded to the container, detached or in the foreground', async () => {
  const script = 'trap "exit 7" TERM; echo ready > /tmp/$1.ready; while :; do sleep 0.05; done';
  const id = h.id();
  const b = h.bundle({ id, args: ['sh', '-c', script, 'sh', id] });
  expect(h.rt(['run', '-d', '--bundle', b.dir, id]).status).toBe(0);
  const ready = join(h.rootfs, 'tmp', `${id}.ready`);
  const until = async (p: string) => { for (let i = 0; i < 400 && !existsSync(p); i++) await new Promise((r) => setTimeout(r, 25)); };
  await until(ready);
  const monitorPid = (JSON.parse(readFileSync(join(h.root, id, 'state.json'), 'utf8')) as { monitorPid: number }).monitorPid;
  process.kill(monitorPid, 'SIGTERM');
  expect((await h.waitStatus(id, 'stopped')).exitCode).toBe(7);
  expect(h.rt(['delete', id]).status).toBe(0);

  const fg = h.id();
  const fb = h.bundle({ id: fg, args: ['sh', '-c', script, 'sh', fg] });
  const child = spawn(RUNTIME, ['--root', h.root, 'run', '--bundle', fb.dir, fg], { stdio: 'ignore' });
  const code = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
  await until(join(h.rootfs, 'tmp', `${fg}.ready`));
  child.kill('SIGTERM');
  expect(await code).toBe(7);
});

test('--preserve-fds passes descriptors 3.. on; other inherited ones never reach the container', async () => {
  const file = join(h.work, 'preserved');
  writeFileSync(file, 'through fd 3\n');
  const b = h.bundle({ args: ['sh', '-c', 'cat <&3; ls /proc/self/fd | tr "\\n" " "'] });
  const fd = openSync(file, 'r');
  const fd2 = openSync(file, 'r');
  try {
    const run = (extra: string[], id: string) => new Promise<string>((res) => {
      const child = spawn(RUNTIME, ['--root', h.root, 'run', ...extra, '--bundle', b.dir, id], { stdio: ['ignore', 'pipe', 'pipe', fd, fd2] });
      let out = '';
      child.stdout!.on('data', (d) => { out += d; });
      child.stderr!.on('data', (d) => { out += d; });
      child.on('close', () => res(out));
    });
    expect(await run(['--preserve-fds', '1'], h.id())).toBe('through fd 3\n0 1 2 3 4 ');
    expect(await run([], h.id())).toMatch(/Bad file descriptor[\s\S]*^0 1 2 3 $/m);
  } finally {
    closeSync(fd);
    closeSync(fd2);
  }
});
