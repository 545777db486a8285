/**
 * The real docker CLI against berthd (berth-runtime underneath): the container
 * commands from run to prune, interactive sessions through tmux, and a
 * --restart always container surviving the kill of its process and of the engine.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type Daemon } from '../fixtures/daemon.js';
import { daemonWithBusybox, docker, ok, requireTools, waitFor } from './containers/fixture.js';

import { jest } from '@jest/globals';

jest.setTimeout(120_000);

let d: Daemon;
let tmp: string;

beforeAll(async () => {
  requireTools('tmux', 'tar');
  d = await daemonWithBusybox({ keep: true });
  tmp = mkdtempSync(join(tmpdir(), 'berth-c-e2e-'));
});

afterAll(async () => {
  if (d) {
    await docker(d, ['rm', '-f', ...(await ok(d, ['ps', '-aq'])).split('\n').filter(Boolean)]);
    await d.stop();
    rmSync(join(d.dataRoot, '..'), { recursive: true, force: true });
    rmSync(join(d.env.DOCKER_CONFIG, '..'), { recursive: true, force: true });
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const inspect = (ref: string, fmt: string) => ok(d, ['inspect', '-f', fmt, ref]);

describe('docker run', () => {
  test('--rm prints the output and returns the exit status; the container is gone', async () => {
    expect(await ok(d, ['run', '--rm', '--network', 'none', 'busybox', 'echo', 'hello'])).toBe('hello');
    const r = await docker(d, ['run', '--rm', '--name', 'rm-exit', 'busybox', 'sh', '-c', 'echo err >&2; exit 3']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('err');
    expect((await docker(d, ['inspect', 'rm-exit'])).code).not.toBe(0);
  });

  test('-e, -w, -u and --name reach the process', async () => {
    const out = await ok(d, ['run', '--rm', '--name', 'envtest', '-e', 'FOO=bar baz', '-w', '/tmp/work', '-u', '65534:65534', 'busybox', 'sh', '-c', 'echo "$FOO|$(pwd)|$(id -u):$(id -g)|$(hostname)"']);
    const [foo, cwd, ids, hostname] = out.split('|');
    expect(foo).toBe('bar baz');
    expect(cwd).toBe('/tmp/work');
    expect(ids).toBe('65534:65534');
    expect(hostname).toMatch(/^[0-9a-f]{12}$/);
  });

  test('--init runs docker-init as pid 1', async () => {
    const out = await ok(d, ['run', '--rm', '--init', 'busybox', 'ps', '-o', 'pid,comm']);
    expect(out).toMatch(/^\s*1\s+docker-init$/m);
    const plain = await ok(d, ['run', '--rm', 'busybox', 'ps', '-o', 'pid,comm']);
    expect(plain).toMatch(/^\s*1\s+ps$/m);
  });

  test('-m and --pids-limit become cgroup limits', async () => {
    const id = await ok(d, ['run', '-d', '-m', '64m', '--pids-limit', '10', 'busybox', 'sleep', '300']);
    const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
    const mem = v2 ? `/sys/fs/cgroup/berth/${id}/memory.max` : `/sys/fs/cgroup/memory/berth/${id}/memory.limit_in_bytes`;
    const pids = v2 ? `/sys/fs/cgroup/berth/${id}/pids.max` : `/sys/fs/cgroup/pids/berth/${id}/pids.max`;
    expect(readFileSync(mem, 'utf8').trim()).toBe(String(64 * 1024 * 1024));
    expect(readFileSync(pids, 'utf8').trim()).toBe('10');
    expect(await inspect(id, '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}')).toBe(`${64 * 1024 * 1024} 10`);
    // The limit holds inside: a shell can't fork past it.
    const r = await docker(d, ['run', '--rm', '--pids-limit', '4', 'busybox', 'sh', '-c', 'i=0; while [ $i -lt 8 ]; do sleep 2 & i=$((i+1)); done; wait']);
    expect(r.stderr).toMatch(/can't fork|Resource temporarily unavailable/);
    await ok(d, ['rm', '-f', id]);
  });

  test('--read-only refuses writes; --tmpfs gives a writable directory', async () => {
    const r = await docker(d, ['run', '--rm', '--read-only', 'busybox', 'touch', '/x']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Read-only file system');
    expect(await ok(d, ['run', '--rm', '--read-only', '--tmpfs', '/scratch:size=1m', 'busybox', 'sh', '-c', 'touch /scratch/x && grep /scratch /proc/mounts'])).toMatch(/tmpfs \/scratch tmpfs .*size=1024k/);
  });

  test('--cap-drop ALL empties the capability sets; the default is docker\'s set', async () => {
    expect(await ok(d, ['run', '--rm', '--cap-drop', 'ALL', 'busybox', 'grep', 'CapEff', '/proc/self/status'])).toBe('CapEff:\t0000000000000000');
    expect(await ok(d, ['run', '--rm', 'busybox', 'grep', 'CapEff', '/proc/self/status'])).toBe('CapEff:\t00000000a80425fb');
    const r = await docker(d, ['run', '--rm', '--cap-drop', 'CHOWN', 'busybox', 'chown', '65534', '/tmp']);
    expect(r.code).not.toBe(0);
  });

  test('-v binds a host directory both ways', async () => {
    const dir = join(tmp, 'bind');
    execFileSync('mkdir', ['-p', dir]);
    writeFileSync(join(dir, 'in'), 'from-host\n');
    expect(await ok(d, ['run', '--rm', '-v', `${dir}:/data`, 'busybox', 'sh', '-c', 'cat /data/in; echo from-container > /data/out'])).toBe('from-host');
    expect(readFileSync(join(dir, 'out'), 'utf8')).toBe('from-container\n');
    const ro = await docker(d, ['run', '--rm', '-v', `${dir}:/data:ro`, 'busybox', 'touch', '/data/x']);
    expect(ro.code).not.toBe(0);
  });
});

describe('interactive sessions through tmux', () => {
  const sock = () => join(tmp, 'tmux.sock');
  const tmuxCmd = (...args: string[]) => execFileSync('tmux', ['-S', sock(), ...args], { encoding: 'utf8' });
  const screen = (s: string) => tmuxCmd('capture-pane', '-p', '-t', s);
  const inTmux = (session: string, cmd: string) => tmuxCmd('new-session', '-d', '-s', session, '-x', '100', '-y', '30', `env DOCKER_HOST=${d.host} DOCKER_CONFIG=${d.env.DOCKER_CONFIG} ${cmd}; echo EXIT=$?; sleep 30`);

  afterAll(() => {
    try {
      tmuxCmd('kill-server');
    } catch {
      // No session left.
    }
  });

  test('run -it: a shell with the terminal size; ctrl-p ctrl-q detaches; attach and exit', async () => {
    inTmux('it', 'docker run -it --name itc busybox sh');
    await waitFor('the shell prompt', async () => screen('it').includes('/ #'));
    tmuxCmd('send-keys', '-t', 'it', 'echo hello-$((40+2)); stty size', 'Enter');
    await waitFor('the echo', async () => /hello-42\s+30 100/.test(screen('it')));
    tmuxCmd('send-keys', '-t', 'it', 'C-p', 'C-q');
    await waitFor('the detach', async () => screen('it').includes('EXIT=0'));
    expect(await inspect('itc', '{{.State.Running}}')).toBe('true');

    inTmux('at', 'docker attach itc');
    await new Promise((r) => setTimeout(r, 500));
    tmuxCmd('send-keys', '-t', 'at', 'echo again-$((1+1))', 'Enter');
    await waitFor('output after attach', async () => screen('at').includes('again-2'));
    tmuxCmd('send-keys', '-t', 'at', 'exit 7', 'Enter');
    await waitFor('the attach to end', async () => screen('at').includes('EXIT=7'));
    expect(await inspect('itc', '{{.State.Status}} {{.State.ExitCode}}')).toBe('exited 7');
  });

  test('exec -it runs a shell in a running container and returns its status', async () => {
    await ok(d, ['run', '-d', '--name', 'execc', 'busybox', 'sleep', '300']);
    inTmux('ex', 'docker exec -it execc sh');
    await waitFor('the exec prompt', async () => screen('ex').includes('/ #'));
    tmuxCmd('send-keys', '-t', 'ex', 'echo in-exec-$((2*3)); tty; exit 3', 'Enter');
    await waitFor('the exec to end', async () => screen('ex').includes('EXIT=3'));
    expect(screen('ex')).toContain('in-exec-6');
    expect(screen('ex')).toMatch(/\/dev\/pts\/\d+/);
  });
});

describe('container commands', () => {
  test('exec, exec -d and exec -i', async () => {
    await ok(d, ['run', '-d', '--name', 'ex2', 'busybox', 'sleep', '300']);
    const r = await docker(d, ['exec', '-e', 'X=1', '-w', '/etc', '-u', 'nobody', 'ex2', 'sh', '-c', 'echo $X $(pwd) $(id -un); exit 4']);
    expect(r.code).toBe(4);
    expect(r.stdout.trim()).toBe('1 /etc nobody');
    expect(await ok(d, ['exec', '-i', 'ex2', 'cat'], { input: 'piped-stdin\n' })).toBe('piped-stdin');
    const hostBnd = /^CapBnd:\s*(\S+)$/m.exec(readFileSync(`/proc/${d.pid}/status`, 'utf8'))![1];
    expect(await ok(d, ['exec', '--privileged', 'ex2', 'grep', 'CapEff', '/proc/self/status'])).toBe(`CapEff:\t${hostBnd}`);
    expect(await ok(d, ['exec', 'ex2', 'grep', 'CapEff', '/proc/self/status'])).toBe('CapEff:\t00000000a80425fb');
    await ok(d, ['exec', '-d', 'ex2', 'sh', '-c', 'echo detached > /tmp/marker']);
    await waitFor('the detached exec', async () => (await docker(d, ['exec', 'ex2', 'cat', '/tmp/marker'])).stdout.includes('detached'));
  });

  test('logs -f --tail --timestamps', async () => {
    await ok(d, ['run', '-d', '--name', 'logger', 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5; do echo line$i; done; echo oops >&2; sleep 1; echo late; sleep 300']);
    await waitFor('five lines', async () => (await ok(d, ['logs', 'logger'])).includes('line5'));
    const tail = await docker(d, ['logs', '--tail', '2', '--timestamps', 'logger']);
    const lines = (tail.stdout + tail.stderr).trim().split('\n').sort();
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z (line5|oops)$/);
    expect(tail.stderr).toContain('oops');
    // --since/--until: the early lines are more than a second older than "late".
    await waitFor('the late line', async () => (await ok(d, ['logs', 'logger'])).includes('late'));
    const lateAt = (await ok(d, ['logs', '-t', 'logger'])).split('\n').find((l) => l.endsWith(' late'))!.split(' ')[0];
    expect(await ok(d, ['logs', '--since', lateAt, 'logger'])).toBe('late');
    expect((await ok(d, ['logs', '--until', lateAt, 'logger'])).split('\n')).toEqual(['line1', 'line2', 'line3', 'line4', 'line5', 'late']);
    const follow = await docker(d, ['logs', '-f', '--tail', '1', 'logger'], { timeoutMs: 2500 });
    // -f keeps streaming until killed by the timeout: it saw the late line.
    expect(follow.stdout).toContain('late');
  });

  test('ps -a --filter --format and inspect -f', async () => {
    expect((await docker(d, ['run', '--name', 'psexited', '--label', 'team=c', 'busybox', 'sh', '-c', 'exit 2'])).code).toBe(2);
    const out = await ok(d, ['ps', '-a', '--filter', 'label=team=c', '--filter', 'exited=2', '--format', '{{.Names}} {{.Status}} {{.Command}}']);
    expect(out).toMatch(/^psexited Exited \(2\) .* "sh -c 'exit 2'"$/);
    expect(await ok(d, ['ps', '-a', '-s', '--filter', 'name=^psexited$', '--format', '{{.Size}}'])).toMatch(/^\d+(\.\d+)?k?B \(virtual \d+(\.\d+)?MB\)$/);
    expect(await ok(d, ['ps', '--filter', 'name=psexited', '-q'])).toBe('');
    expect(await ok(d, ['ps', '-a', '--filter', 'status=exited', '--filter', 'name=^psexited$', '--format', '{{.Names}}'])).toBe('psexited');
    expect(await inspect('psexited', '{{.Name}} {{.State.ExitCode}} {{.Config.Labels.team}} {{.HostConfig.NetworkMode}}')).toMatch(/^\/psexited 2 c \w+$/);
  });

  test('stop, start, restart, kill, wait, rm -f', async () => {
    const id = await ok(d, ['run', '-d', '--name', 'life', 'busybox', 'sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done']);
    await ok(d, ['stop', '-t', '5', 'life']);
    expect(await inspect(id, '{{.State.Status}} {{.State.ExitCode}}')).toBe('exited 0');
    await ok(d, ['start', 'life']);
    const pid1 = await inspect(id, '{{.State.Pid}}');
    await ok(d, ['restart', '-t', '5', 'life']);
    expect(await inspect(id, '{{.State.Running}}')).toBe('true');
    expect(await inspect(id, '{{.State.Pid}}')).not.toBe(pid1);
    const waiting = docker(d, ['wait', 'life']);
    await ok(d, ['kill', '-s', 'KILL', 'life']);
    expect((await waiting).stdout.trim()).toBe('137');
    await ok(d, ['start', 'life']);
    expect((await docker(d, ['rm', 'life'])).code).not.toBe(0);
    await ok(d, ['rm', '-f', 'life']);
    expect((await docker(d, ['inspect', id])).code).not.toBe(0);
  });

  test('pause and unpause freeze the processes', async () => {
    await ok(d, ['run', '-d', '--name', 'pz', 'busybox', 'sleep', '300']);
    await ok(d, ['pause', 'pz']);
    expect(await inspect('pz', '{{.State.Status}} {{.State.Paused}}')).toBe('paused true');
    const pid = await inspect('pz', '{{.State.Pid}}');
    expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/State:\s+[DS]/);
    expect(await ok(d, ['ps', '--filter', 'name=pz', '--format', '{{.Status}}'])).toContain('(Paused)');
    await ok(d, ['unpause', 'pz']);
    expect(await inspect('pz', '{{.State.Status}}')).toBe('running');
  });

  test('rename, top, stats --no-stream', async () => {
    await ok(d, ['run', '-d', '--name', 'before', 'busybox', 'sleep', '300']);
    await ok(d, ['rename', 'before', 'after']);
    expect(await inspect('after', '{{.Name}}')).toBe('/after');
    expect((await docker(d, ['inspect', 'before'])).code).not.toBe(0);
    const top = await ok(d, ['top', 'after']);
    expect(top).toMatch(/^UID\s+PID\s+PPID/);
    expect(top).toContain('sleep 300');
    const stats = await ok(d, ['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}} {{.MemUsage}}', 'after']);
    expect(stats).toMatch(/^after 1 \d+(\.\d+)?\w?i?B \/ /);
  });

  test('cp both ways, diff, commit then run the new image, export', async () => {
    await ok(d, ['run', '-d', '--name', 'files', 'busybox', 'sleep', '300']);
    const src = join(tmp, 'cp-in');
    execFileSync('mkdir', ['-p', src]);
    writeFileSync(join(src, 'hello.txt'), 'copied in\n');
    await ok(d, ['cp', join(src, 'hello.txt'), 'files:/tmp/']);
    await ok(d, ['cp', src, 'files:/srv']);
    expect(await ok(d, ['exec', 'files', 'cat', '/tmp/hello.txt', '/srv/hello.txt'])).toBe('copied in\ncopied in');
    await ok(d, ['exec', 'files', 'sh', '-c', 'echo made-inside > /root/inside.txt; rm /etc/group']);
    const out = join(tmp, 'cp-out');
    await ok(d, ['cp', 'files:/root/inside.txt', out]);
    expect(readFileSync(out, 'utf8')).toBe('made-inside\n');

    const diff = (await ok(d, ['diff', 'files'])).split('\n');
    expect(diff).toEqual(expect.arrayContaining(['A /root/inside.txt', 'D /etc/group', 'A /tmp/hello.txt']));

    await ok(d, ['commit', '-c', 'CMD ["cat","/root/inside.txt"]', '-c', 'ENV COMMITTED=yes', 'files', 'committed:v1']);
    expect(await ok(d, ['run', '--rm', 'committed:v1'])).toBe('made-inside');
    expect(await ok(d, ['run', '--rm', 'committed:v1', 'sh', '-c', 'echo $COMMITTED; test -e /etc/group || echo no-group'])).toBe('yes\nno-group');

    const tarFile = join(tmp, 'export.tar');
    await ok(d, ['export', '-o', tarFile, 'files']);
    const names = execFileSync('tar', ['-tf', tarFile], { encoding: 'utf8' }).split('\n');
    expect(names).toEqual(expect.arrayContaining(['./root/inside.txt', './bin/busybox']));
    expect(names).not.toContain('./etc/group');
  });

  test('container prune removes stopped containers only', async () => {
    await ok(d, ['run', '--name', 'prune-me', 'busybox', 'true']);
    await ok(d, ['run', '-d', '--name', 'keep-me', 'busybox', 'sleep', '300']);
    const out = await ok(d, ['container', 'prune', '-f']);
    const id = (await docker(d, ['inspect', '-f', '{{.Id}}', 'prune-me'])).stdout.trim();
    expect(id).toBe('');
    expect(out).toContain('Total reclaimed space');
    expect(await inspect('keep-me', '{{.State.Running}}')).toBe('true');
  });
});

describe('restart policy and live restore', () => {
  test('--restart always comes back after its process and then the engine are killed', async () => {
    const id = await ok(d, ['run', '-d', '--restart', 'always', '--name', 'phoenix', 'busybox', 'sh', '-c', 'echo started; sleep 300']);
    const pid1 = Number(await inspect(id, '{{.State.Pid}}'));
    process.kill(pid1, 'SIGKILL');
    await waitFor('the restart', async () => (await inspect(id, '{{.RestartCount}} {{.State.Running}}')) === '1 true');
    const pid2 = Number(await inspect(id, '{{.State.Pid}}'));
    expect(pid2).not.toBe(pid1);

    // A plain container keeps running across the engine's death and is re-adopted.
    const survivor = await ok(d, ['run', '-d', '--name', 'survivor', 'busybox', 'sh', '-c', 'echo before; sleep 1; echo during; sleep 300']);
    const survivorPid = Number(await inspect(survivor, '{{.State.Pid}}'));

    process.kill(d.pid, 'SIGKILL');
    await new Promise<void>((r) => (d.process.exitCode !== null || d.process.signalCode !== null ? r() : d.process.once('exit', () => r())));
    process.kill(pid2, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 1500));

    const old = d;
    d = await startDaemon({ dataRoot: old.dataRoot, execRoot: old.execRoot, keep: true });
    await waitFor('phoenix back', async () => (await inspect(id, '{{.State.Running}}')) === 'true');
    expect(Number(await inspect(id, '{{.State.Pid}}'))).not.toBe(pid2);
    expect(await inspect(survivor, '{{.State.Status}} {{.State.Pid}}')).toBe(`running ${survivorPid}`);
    expect(await ok(d, ['logs', 'survivor'])).toBe('before\nduring');
    // The re-adopted container's exit is seen by the new engine.
    await ok(d, ['stop', '-t', '1', 'survivor']);
    expect(await inspect(survivor, '{{.State.Status}}')).toBe('exited');
  });
});
