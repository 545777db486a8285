/**
 * Hostile inputs and what the docker CLI doesn't reach, through dockerode and raw
 * API calls: docker's status codes, clear messages, and nothing changed on the host.
 */
import { jest } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import tar from 'tar-stream';
import { api, type Daemon } from '../fixtures/daemon.js';
import { daemonWithBusybox, docker, ok, waitFor } from './containers/fixture.js';

jest.setTimeout(60_000);

let d: Daemon;
let client: Docker;

beforeAll(async () => {
  d = await daemonWithBusybox();
  client = new Docker({ socketPath: d.socket });
});

afterAll(async () => {
  if (d) {
    const ids = (await ok(d, ['ps', '-aq'])).split('\n').filter(Boolean);
    if (ids.length) await docker(d, ['rm', '-f', ...ids]);
    await d.stop();
  }
});

function tarOf(entries: { name: string; type?: 'file' | 'symlink' | 'directory'; linkname?: string; content?: string }[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    if ((e.type ?? 'file') === 'file') pack.entry({ name: e.name, mode: 0o644 }, e.content ?? 'x');
    else pack.entry({ name: e.name, type: e.type, linkname: e.linkname, mode: 0o755 });
  }
  pack.finalize();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    pack.on('data', (c: Buffer) => chunks.push(c));
    pack.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

async function running(name: string): Promise<string> {
  return ok(d, ['run', '-d', '--name', name, 'busybox', 'sleep', '300']);
}

describe('docker cp with hostile tars', () => {
  test('an entry with ../ is refused with 400 and nothing is written anywhere', async () => {
    const id = await running('cp-dotdot');
    const marker = `escape-${randomBytes(4).toString('hex')}`;
    const body = await tarOf([{ name: 'ok.txt' }, { name: `../../../../../../../../tmp/${marker}` }]);
    const r = await api(d, 'PUT', `/containers/${id}/archive?path=/tmp`, body);
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(/outside the destination/);
    expect(existsSync(`/tmp/${marker}`)).toBe(false);
    // Refused before extraction: not even the harmless first entry landed.
    expect((await docker(d, ['exec', id, 'ls', '/tmp/ok.txt'])).code).not.toBe(0);
  });

  test('a relative symlink climbing out is refused; an absolute one stays inside the container', async () => {
    const id = await running('cp-symlink');
    const climb = await tarOf([{ name: 'up', type: 'symlink', linkname: '../../../../../../../../..' }]);
    const r = await api(d, 'PUT', `/containers/${id}/archive?path=/tmp`, climb);
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(/invalid symlink/);

    const marker = `hostescape-${randomBytes(4).toString('hex')}`;
    const abs = await tarOf([{ name: 'root', type: 'symlink', linkname: '/' }, { name: `root/tmp/${marker}`, content: 'inside' }]);
    const r2 = await api(d, 'PUT', `/containers/${id}/archive?path=/srv`, abs);
    expect(r2.status).toBe(404);
    const r3 = await api(d, 'PUT', `/containers/${id}/archive?path=/tmp`, abs);
    expect(r3.status).toBe(200);
    expect(existsSync(`/tmp/${marker}`)).toBe(false);
    expect(await ok(d, ['exec', id, 'cat', `/tmp/${marker}`])).toBe('inside');
  });

  test('HEAD archive answers the path stat header; a missing path is 404', async () => {
    const id = await running('cp-stat');
    const r = await api(d, 'HEAD', `/containers/${id}/archive?path=/etc`);
    expect(r.status).toBe(200);
    const stat = JSON.parse(Buffer.from(String(r.headers['x-docker-container-path-stat']), 'base64').toString());
    expect(stat.name).toBe('etc');
    expect(stat.mode).toBeGreaterThanOrEqual(0x80000000);
    expect((await api(d, 'HEAD', `/containers/${id}/archive?path=/nope`)).status).toBe(404);
  });
});

describe('bad requests leave nothing behind', () => {
  const count = async () => (await ok(d, ['ps', '-aq'])).split('\n').filter(Boolean).length;

  test('a bind mount whose source does not exist', async () => {
    const before = await count();
    const src = `/tmp/berth-missing-${randomBytes(4).toString('hex')}`;
    const r = await docker(d, ['run', '--rm', '--mount', `type=bind,source=${src},target=/x`, 'busybox', 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain(`bind source path does not exist: ${src}`);
    expect(existsSync(src)).toBe(false);
    expect(await count()).toBe(before);
  });

  test('absurd resource values are 400 with the reason', async () => {
    const before = await count();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ Memory: 1 }, /Minimum memory limit allowed is 6MB/],
      [{ NanoCpus: 1e15 }, /Range of CPUs is from 0.01/],
      [{ CpuShares: -1 }, /CpuShares/],
      [{ OomScoreAdj: 5000 }, /oom score adj/],
      [{ PidsLimit: 1e12 }, /PidsLimit/],
      [{ CpusetCpus: '0-4096' }, /Requested CPUs are not available/],
      [{ Memory: 64 << 20, MemorySwap: 1 << 20 }, /memoryswap limit should be larger/],
      [{ RestartPolicy: { Name: 'sometimes' } }, /invalid restart policy/],
      [{ CapAdd: ['CAP_BOGUS'] }, /unknown capability/],
      [{ Sysctls: { 'kernel.panic': '1' } }, /not allowed/],
    ];
    for (const [hc, message] of cases) {
      const r = await api(d, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: hc });
      if (r.status === 201) {
        // Sysctls are checked when the spec is built: start must refuse.
        const s = await api(d, 'POST', `/containers/${r.json.Id}/start`);
        expect(s.status).toBe(400);
        expect(s.json.message).toMatch(message);
        await api(d, 'DELETE', `/containers/${r.json.Id}?force=1`);
        continue;
      }
      expect([r.status, r.json.message]).toEqual([400, expect.stringMatching(message)]);
    }
    expect(await count()).toBe(before);
  });

  test('a duplicate name is 409; the first container is untouched', async () => {
    const id = await running('dup-name');
    const r = await docker(d, ['run', '-d', '--name', 'dup-name', 'busybox', 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('The container name "/dup-name" is already in use');
    const api409 = await api(d, 'POST', '/containers/create?name=dup-name', { Image: 'busybox' });
    expect(api409.status).toBe(409);
    expect(await ok(d, ['inspect', '-f', '{{.Id}} {{.State.Running}}', 'dup-name'])).toBe(`${id} true`);
  });

  test('unknown ids and images are 404 with docker\'s message', async () => {
    for (const [method, path] of [['GET', '/containers/nosuch/json'], ['POST', '/containers/nosuch/start'], ['POST', '/containers/nosuch/stop'], ['DELETE', '/containers/nosuch'], ['GET', '/containers/nosuch/logs?stdout=1'], ['POST', '/exec/nosuch/start']]) {
      const r = await api(d, method, path, method === 'POST' ? {} : undefined);
      expect([path, r.status]).toEqual([path, 404]);
      expect(r.json.message).toMatch(/No such (container|exec instance): nosuch/);
    }
    const img = await api(d, 'POST', '/containers/create', { Image: 'no-such-image:1' });
    expect(img.status).toBe(404);
  });

  test('exec in a stopped container is 409; removing a running one without force is 409', async () => {
    await ok(d, ['create', '--name', 'stopped-one', 'busybox', 'true']);
    const r = await docker(d, ['exec', 'stopped-one', 'true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/is not running/);
    expect((await api(d, 'POST', '/containers/stopped-one/exec', { Cmd: ['true'] })).status).toBe(409);
    const id = await running('running-one');
    const rm = await api(d, 'DELETE', `/containers/${id}`);
    expect(rm.status).toBe(409);
    expect(rm.json.message).toContain('stop the container before removing or force remove');
    expect((await api(d, 'POST', `/containers/${id}/start`)).status).toBe(304);
  });
});

describe('API details through dockerode', () => {
  test('wait conditions: not-running at once for a stopped one, next-exit, removed', async () => {
    const c = await client.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'sleep 0.3; exit 5'] });
    expect((await c.wait({ condition: 'not-running' })).StatusCode).toBe(0);
    const next = c.wait({ condition: 'next-exit' });
    await c.start();
    expect((await next).StatusCode).toBe(5);
    const removed = c.wait({ condition: 'removed' });
    await c.remove();
    expect((await removed).StatusCode).toBe(5);
  });

  test('attach with logs replays earlier output, then streams; stdin half-close ends cat', async () => {
    const c = await client.createContainer({ Image: 'busybox', Cmd: ['cat'], OpenStdin: true, StdinOnce: true, AttachStdin: true, AttachStdout: true });
    const stream = await c.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true });
    const chunks: Buffer[] = [];
    stream.on('data', (b: Buffer) => chunks.push(b));
    await c.start();
    stream.write('through-stdin\n');
    (stream as unknown as { end(): void }).end();
    expect((await c.wait()).StatusCode).toBe(0);
    const raw = Buffer.concat(chunks);
    // Multiplexed frames: stream 1 (stdout), then the payload.
    expect(raw[0]).toBe(1);
    expect(raw.subarray(8).toString()).toBe('through-stdin\n');
    const replay = await api(d, 'POST', `/containers/${c.id}/attach?logs=1&stdout=1`);
    expect(replay.body.subarray(8).toString()).toBe('through-stdin\n');
    await c.remove();
  });

  test('update changes the limits of a running container', async () => {
    const c = await client.createContainer({ Image: 'busybox', Cmd: ['sleep', '300'], HostConfig: { Memory: 64 << 20 } });
    await c.start();
    await c.update({ Memory: 128 << 20, MemorySwap: -1 } as never);
    const info = await c.inspect();
    expect(info.HostConfig.Memory).toBe(128 << 20);
    if (existsSync('/sys/fs/cgroup/memory/berth')) {
      expect(readFileSync(`/sys/fs/cgroup/memory/berth/${c.id}/memory.limit_in_bytes`, 'utf8').trim()).toBe(String(128 << 20));
    }
    await c.remove({ force: true });
  });

  test('lifecycle events in order', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const c = await client.createContainer({ Image: 'busybox', Cmd: ['true'], name: 'evented' });
    await c.start();
    await c.wait();
    await c.remove();
    const until = Math.floor(Date.now() / 1000) + 1;
    const r = await api(d, 'GET', `/events?since=${since}&until=${until}&filters=${encodeURIComponent(JSON.stringify({ container: ['evented'] }))}`);
    const actions = r.lines.map((e: { Action: string }) => e.Action);
    expect(actions).toEqual(['create', 'start', 'die', 'destroy']);
    expect(r.lines[2].Actor.Attributes.exitCode).toBe('0');
  });

  test('inspect and list shapes', async () => {
    const c = await client.createContainer({ Image: 'busybox', Cmd: ['sleep', '300'], Labels: { a: 'b' }, name: 'shapes', Tty: true });
    await c.start();
    const info = await c.inspect();
    expect(info.Name).toBe('/shapes');
    expect(info.State).toMatchObject({ Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, ExitCode: 0 });
    expect(info.State.Pid).toBeGreaterThan(1);
    expect(info.Config.Labels).toEqual({ a: 'b' });
    expect(info.GraphDriver.Name).toMatch(/overlay2|vfs/);
    expect(info.Image).toMatch(/^sha256:/);
    const list = await client.listContainers({ filters: { label: ['a=b'] } });
    expect(list.map((x) => x.Names[0])).toEqual(['/shapes']);
    expect(list[0].State).toBe('running');
    await c.resize({ h: 40, w: 120 });
    await waitFor('the new size', async () => (await docker(d, ['exec', 'shapes', 'stty', 'size', '-F', '/dev/console'])).stdout.includes('40 120') || (await docker(d, ['exec', '-t', 'shapes', 'sh', '-c', 'stty size < /proc/1/fd/0'])).stdout.includes('40 120'), 5000);
    await c.remove({ force: true });
  });
});

describe('more run options', () => {
  test('--log-opt max-size/max-file rotate the json-file log; logs reads across the files', async () => {
    const id = await ok(d, ['run', '-d', '--log-opt', 'max-size=1k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c', 'i=0; while [ $i -lt 200 ]; do echo "line-$i"; i=$((i+1)); done']);
    expect((await ok(d, ['wait', id]))).toBe('0');
    const logPath = await ok(d, ['inspect', '-f', '{{.LogPath}}', id]);
    expect(existsSync(`${logPath}.1`)).toBe(true);
    expect(existsSync(`${logPath}.3`)).toBe(false);
    const lines = (await ok(d, ['logs', id])).split('\n');
    expect(lines[lines.length - 1]).toBe('line-199');
    expect(lines.length).toBeLessThan(200);
    expect((await ok(d, ['logs', '--tail', '3', id])).split('\n')).toEqual(['line-197', 'line-198', 'line-199']);
    const none = await ok(d, ['run', '-d', '--log-driver', 'none', 'busybox', 'echo', 'x']);
    await ok(d, ['wait', none]);
    const r = await docker(d, ['logs', none]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('does not support reading');
  });

  test('--restart on-failure:2 retries twice with back-off, then stays exited', async () => {
    const id = await ok(d, ['run', '-d', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'echo try; exit 3']);
    await waitFor('two restarts', async () => (await ok(d, ['inspect', '-f', '{{.RestartCount}} {{.State.Status}}', id])) === '2 exited', 10000);
    expect(await ok(d, ['inspect', '-f', '{{.State.ExitCode}}', id])).toBe('3');
    expect((await ok(d, ['logs', id])).split('\n')).toEqual(['try', 'try', 'try']);
  });

  test('--device, --sysctl, --shm-size, --ulimit, --oom-score-adj, --group-add, --hostname, --privileged', async () => {
    const out = await ok(d, ['run', '--rm', '--device', '/dev/null:/dev/xnull', '--sysctl', 'kernel.shmmax=123456789', '--shm-size', '8m',
      '--ulimit', 'nofile=512:1024', '--oom-score-adj', '300', '--group-add', '1234', '--hostname', 'box', 'busybox', 'sh', '-c',
      'echo x > /dev/xnull && cat /proc/sys/kernel/shmmax; df -k /dev/shm | tail -1; ulimit -n; ulimit -Hn; cat /proc/self/oom_score_adj; id -G; hostname']);
    const [shmmax, shm, soft, hard, oom, groups, host] = out.split('\n');
    expect(shmmax).toBe('123456789');
    expect(shm).toMatch(/\s8192\s/);
    expect([soft, hard, oom]).toEqual(['512', '1024', '300']);
    expect(groups.split(' ')).toContain('1234');
    expect(host).toBe('box');
    // Privileged gets every capability berthd has (its bounding set, like docker).
    const hostBnd = /^CapBnd:\s*(\S+)$/m.exec(readFileSync(`/proc/${d.pid}/status`, 'utf8'))![1];
    expect(await ok(d, ['run', '--rm', '--privileged', 'busybox', 'sh', '-c', 'grep CapEff /proc/self/status; mount -t tmpfs none /tmp && echo mounted'])).toBe(`CapEff:\t${hostBnd}\nmounted`);
    const denied = await docker(d, ['run', '--rm', 'busybox', 'mount', '-t', 'tmpfs', 'none', '/tmp']);
    expect(denied.code).not.toBe(0);
  });

  test('--health-cmd: unhealthy while the probe fails, healthy once it passes; ps shows it', async () => {
    await ok(d, ['run', '-d', '--name', 'probed', '--health-cmd', 'cat /tmp/ok', '--health-interval', '200ms', '--health-retries', '1', 'busybox', 'sleep', '300']);
    await waitFor('unhealthy', async () => (await ok(d, ['inspect', '-f', '{{.State.Health.Status}}', 'probed'])) === 'unhealthy');
    expect(await ok(d, ['ps', '--filter', 'health=unhealthy', '--format', '{{.Names}} {{.Status}}'])).toMatch(/^probed Up .* \(unhealthy\)$/);
    await ok(d, ['exec', 'probed', 'sh', '-c', 'echo fine > /tmp/ok']);
    await waitFor('healthy', async () => (await ok(d, ['inspect', '-f', '{{.State.Health.Status}}', 'probed'])) === 'healthy');
    const log = JSON.parse(await ok(d, ['inspect', '-f', '{{json .State.Health.Log}}', 'probed']));
    expect(log[log.length - 1]).toMatchObject({ ExitCode: 0, Output: 'fine\n' });
  });

  test('named and anonymous volumes (-v name:/path, -v /path) persist and are released by rm -v', async () => {
    await ok(d, ['run', '--rm', '-v', 'cdata:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f']);
    expect(await ok(d, ['run', '--rm', '-v', 'cdata:/data', 'busybox', 'cat', '/data/f'])).toBe('kept');
    const id = await ok(d, ['run', '-d', '-v', '/anon', 'busybox', 'sh', '-c', 'echo a > /anon/x; sleep 300']);
    const mount = JSON.parse(await ok(d, ['inspect', '-f', '{{json .Mounts}}', id]))[0];
    expect(mount).toMatchObject({ Type: 'volume', Destination: '/anon', RW: true });
    expect(mount.Name).toMatch(/^[0-9a-f]{64}$/);
    await ok(d, ['rm', '-f', '-v', id]);
    expect((await docker(d, ['volume', 'inspect', mount.Name])).code).not.toBe(0);
  });

  test('--network host shares the host\'s interfaces; none has only lo', async () => {
    // Same network namespace as the host (compared by inode: the host's interfaces change under parallel tests).
    const hostNs = execFileSyncText('readlink', ['/proc/self/ns/net']);
    expect(await ok(d, ['run', '--rm', '--network', 'host', 'busybox', 'readlink', '/proc/self/ns/net'])).toBe(hostNs);
    const none = await ok(d, ['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'readlink /proc/self/ns/net; ls /sys/class/net']);
    const [ns, ifaces] = none.split('\n');
    expect(ns).not.toBe(hostNs);
    expect(ifaces).toBe('lo');
  });
});

function execFileSyncText(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
}
