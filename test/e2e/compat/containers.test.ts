/**
 * Containers as dockerd shows them to clients: inspect of created containers,
 * volumes in the archive API, shared namespaces, stats limits, create-time
 * validation and log drivers.
 */
import { jest } from '@jest/globals';
import { readFileSync, readlinkSync, rmSync } from 'node:fs';
import { totalmem } from 'node:os';
import { dirname } from 'node:path';
import { api, startDaemon, type Daemon } from '../../fixtures/daemon.js';
import { spawn } from 'node:child_process';
import { DOCKER, daemonWithBusybox, docker, ok, waitFor } from '../containers/fixture.js';
import Docker from 'dockerode';
import type { Duplex } from 'node:stream';

jest.setTimeout(60_000);

let d: Daemon;

beforeAll(async () => {
  d = await daemonWithBusybox();
});

afterAll(async () => {
  if (d) {
    const ids = (await ok(d, ['ps', '-aq'])).split('\n').filter(Boolean);
    if (ids.length) await docker(d, ['rm', '-f', '-v', ...ids]);
    await d.stop();
  }
});

describe('inspect of a created container', () => {
  test('volumes have their names and host Source from create; networks are keyed by name; tmpfs stays in HostConfig', async () => {
    const id = await ok(d, ['create', '-v', 'named-vol:/data', '-v', '/anon', '--tmpfs', '/run:size=1m', 'busybox']);
    const info = JSON.parse(await ok(d, ['inspect', id]))[0];
    const named = info.Mounts.find((m: { Destination: string }) => m.Destination === '/data');
    const anon = info.Mounts.find((m: { Destination: string }) => m.Destination === '/anon');
    expect(named).toMatchObject({ Type: 'volume', Name: 'named-vol', Source: `${d.dataRoot}/volumes/named-vol/_data` });
    expect(anon.Name).toMatch(/^[0-9a-f]{64}$/);
    expect(anon.Source).toBe(`${d.dataRoot}/volumes/${anon.Name}/_data`);
    expect(info.Mounts.find((m: { Destination: string }) => m.Destination === '/run')).toBeUndefined();
    expect(info.HostConfig.Tmpfs).toEqual({ '/run': 'size=1m' });
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual(['bridge']);
    expect(info.HostConfig.MaskedPaths).toContain('/proc/kcore');
    expect(info.HostConfig.ReadonlyPaths).toContain('/proc/sys');
    // The anonymous volume keeps its name when the container starts.
    await ok(d, ['start', id]);
    const after = JSON.parse(await ok(d, ['inspect', id]))[0];
    expect(after.Mounts.find((m: { Destination: string }) => m.Destination === '/anon').Name).toBe(anon.Name);
    expect(await ok(d, ['volume', 'ls', '-q'])).toContain(anon.Name);
  });

  test('a created container on a user network shows that network with the endpoint settings given', async () => {
    await ok(d, ['network', 'create', 'compat-net']);
    const id = await ok(d, ['create', '--network', 'compat-net', '--network-alias', 'db', 'busybox']);
    const nets = JSON.parse(await ok(d, ['inspect', '-f', '{{json .NetworkSettings.Networks}}', id]));
    expect(Object.keys(nets)).toEqual(['compat-net']);
    expect(nets['compat-net'].Aliases).toContain('db');
    await ok(d, ['rm', id]);
    await ok(d, ['network', 'rm', 'compat-net']);
  });
});

describe('the archive API on containers that are not running', () => {
  test('docker cp sees and writes the volumes and binds of a created and a stopped container', async () => {
    const id = await ok(d, ['create', '-v', 'cp-vol:/data', 'busybox', 'sh', '-c', 'echo from-run > /data/ran']);
    await ok(d, ['cp', '-', `${id}:/data`], { input: await tarOf('put.txt', 'put-before-start') });
    await ok(d, ['start', '-a', id]);
    const listing = await ok(d, ['run', '--rm', '-v', 'cp-vol:/v', 'busybox', 'ls', '/v']);
    expect(listing.split('\n').sort()).toEqual(['put.txt', 'ran']);
    const out = await docker(d, ['cp', `${id}:/data/ran`, '-']);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('from-run');
    const head = await api(d, 'HEAD', `/containers/${id}/archive?path=/data/put.txt`);
    expect(head.status).toBe(200);
  });
});

async function tarOf(name: string, content: string): Promise<Buffer> {
  const { layerTar } = await import('../../fixtures/images.js');
  return layerTar([{ name, content }]);
}

describe('shared namespaces', () => {
  test('--pid host, --ipc host and --uts host are honoured; bad modes are refused with dockerd\'s words', async () => {
    const id = await ok(d, ['run', '-d', '--pid', 'host', '--ipc', 'host', '--uts', 'host', 'busybox', 'sleep', '60']);
    const pid = Number(await ok(d, ['inspect', '-f', '{{.State.Pid}}', id]));
    for (const ns of ['pid', 'ipc', 'uts']) expect(readlinkSync(`/proc/${pid}/ns/${ns}`)).toBe(readlinkSync(`/proc/self/ns/${ns}`));
    expect(await ok(d, ['exec', id, 'hostname'])).toBe(readFileSync('/proc/sys/kernel/hostname', 'utf8').trim());
    const other = await ok(d, ['run', '-d', '--pid', `container:${id}`, '--ipc', `container:${id}`, 'busybox', 'sleep', '60']);
    const otherPid = Number(await ok(d, ['inspect', '-f', '{{.State.Pid}}', other]));
    expect(readlinkSync(`/proc/${otherPid}/ns/ipc`)).toBe(readlinkSync(`/proc/${pid}/ns/ipc`));
    await ok(d, ['rm', '-f', id, other]);
    for (const [field, value, msg] of [['PidMode', 'bogus', 'invalid PID mode: bogus'], ['IpcMode', 'bogus', 'invalid IPC mode: bogus'], ['UTSMode', 'container:x', 'invalid UTS mode: container:x']]) {
      const r = await api(d, 'POST', '/containers/create', { Image: 'busybox', HostConfig: { [field]: value } });
      expect(r.status).toBe(400);
      expect(r.json.message).toBe(msg);
    }
  });
});

describe('stats', () => {
  test('without a memory limit the limit is the host\'s memory', async () => {
    const id = await ok(d, ['run', '-d', 'busybox', 'sleep', '60']);
    const s = (await api(d, 'GET', `/containers/${id}/stats?stream=false`)).json;
    expect(s.memory_stats.limit).toBe(totalmem());
    const limited = await ok(d, ['run', '-d', '-m', '64m', 'busybox', 'sleep', '60']);
    expect((await api(d, 'GET', `/containers/${limited}/stats?stream=false`)).json.memory_stats.limit).toBe(64 << 20);
    await ok(d, ['rm', '-f', id, limited]);
  });
});

describe('create validates HostConfig and Config as dockerd does; nothing invalid is stored', () => {
  test.each([
    [{ Memory: 'abc' }, /cannot unmarshal string into Go struct field HostConfig.HostConfig.Memory of type int64/],
    [{ Memory: 1.5 }, /cannot unmarshal number 1.5 into Go struct field HostConfig.HostConfig.Memory/],
    [{ MemorySwappiness: 200 }, /^Invalid value: 200, valid memory swappiness range is 0-100$/],
    [{ BlkioWeight: 5 }, /^Range of blkio weight is from 10 to 1000$/],
    [{ Memory: 64 << 20, MemorySwap: 1 << 20 }, /^Minimum memoryswap limit should be larger than memory limit/],
    [{ NanoCpus: 1e15 }, /^Range of CPUs is from 0.01 to/],
    [{ LogConfig: { Type: 'bogus' } }, /^error looking up logging plugin bogus: plugin "bogus" not found$/],
    [{ Config: { Env: ['=oops'] } }, /^invalid environment variable: =oops$/],
    [{ Config: { Healthcheck: { Test: ['CMD', 'true'], Interval: 1000 } } }, /^Interval in Healthcheck cannot be less than 1ms$/],
    [{ Config: { Healthcheck: { Test: ['CMD', 'true'], Retries: -1 } } }, /^Retries in Healthcheck cannot be negative$/],
  ])('%j', async (hostConfig, message) => {
    const name = `invalid-${Math.random().toString(16).slice(2, 8)}`;
    const { Config: config, ...hostOnly } = hostConfig as Record<string, unknown> & { Config?: Record<string, unknown> };
    const r = await api(d, 'POST', `/containers/create?name=${name}`, { Image: 'busybox', ...(config ?? {}), HostConfig: hostOnly });
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(message);
    expect((await api(d, 'GET', `/containers/${name}/json`)).status).toBe(404);
  });
});

describe('create with ?platform=', () => {
  test('the image must match the platform asked for; a malformed platform is a 400', async () => {
    const arch = await ok(d, ['image', 'inspect', '-f', '{{.Architecture}}', 'busybox']);
    expect((await api(d, 'POST', `/containers/create?platform=linux/${arch}`, { Image: 'busybox' })).status).toBe(201);
    const other = arch === 's390x' ? 'riscv64' : 's390x';
    const wrong = await api(d, 'POST', `/containers/create?platform=linux/${other}`, { Image: 'busybox' });
    expect(wrong.status).toBe(404);
    expect(wrong.json.message).toBe(`image with reference busybox was found but does not match the specified platform: wanted linux/${other}, actual: linux/${arch}`);
    expect((await api(d, 'POST', '/containers/create?platform=linux', { Image: 'busybox' })).status).toBe(400);
  });
});

describe('log drivers', () => {
  test('the local driver keeps logs that docker logs reads', async () => {
    const id = await ok(d, ['run', '-d', '--log-driver', 'local', 'busybox', 'sh', '-c', 'echo logged-line']);
    await ok(d, ['wait', id]);
    expect(await ok(d, ['logs', id])).toBe('logged-line');
    expect(await ok(d, ['inspect', '-f', '{{.HostConfig.LogConfig.Type}}', id])).toBe('local');
  });
});

describe('legacy links', () => {
  test('--link injects docker\'s variables, resolves the alias, and DELETE ?link=1 removes it', async () => {
    await ok(d, ['run', '-d', '--name', 'link-target', '-e', 'FOO=bar', '--expose', '80', 'busybox', 'sleep', '60']);
    const ip = await ok(d, ['inspect', '-f', '{{.NetworkSettings.Networks.bridge.IPAddress}}', 'link-target']);
    const env = await ok(d, ['run', '--name', 'link-user', '--link', 'link-target:db', 'busybox', 'sh', '-c', 'env; ping -c1 -W2 db >/dev/null && echo resolved']);
    for (const line of ['DB_NAME=/link-user/db', 'DB_ENV_FOO=bar', `DB_PORT=tcp://${ip}:80`, `DB_PORT_80_TCP=tcp://${ip}:80`, `DB_PORT_80_TCP_ADDR=${ip}`, 'DB_PORT_80_TCP_PORT=80', 'DB_PORT_80_TCP_PROTO=tcp', 'resolved']) {
      expect(env.split('\n')).toContain(line);
    }
    expect(JSON.parse(await ok(d, ['inspect', '-f', '{{json .HostConfig.Links}}', 'link-user']))).toEqual(['/link-target:/link-user/db']);
    const del = await api(d, 'DELETE', '/containers/link-user/db?link=1');
    expect(del.status).toBe(204);
    expect(await ok(d, ['inspect', '-f', '{{json .HostConfig.Links}}', 'link-user'])).toBe('null');
    expect((await api(d, 'DELETE', '/containers/link-user/db?link=1')).status).toBe(404);
    // A missing link target is a 400: a 404 would make the CLI try to pull the image.
    const bad = await api(d, 'POST', '/containers/create', { Image: 'busybox', HostConfig: { Links: ['no-such-target:x'] } });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toBe('could not get container for no-such-target');
    await ok(d, ['rm', '-f', 'link-target', 'link-user']);
  });
});

describe('Mount.Subpath (API 1.45)', () => {
  test('a volume mount with a subpath sees only that directory; a missing one is refused', async () => {
    await ok(d, ['run', '--rm', '-v', 'sub-vol:/v', 'busybox', 'sh', '-c', 'mkdir -p /v/inner && echo deep > /v/inner/file && echo top > /v/top']);
    const mount = { Type: 'volume', Source: 'sub-vol', Target: '/m', VolumeOptions: { Subpath: 'inner' } };
    const c = await api(d, 'POST', '/v1.45/containers/create', { Image: 'busybox', Cmd: ['ls', '/m'], HostConfig: { Mounts: [mount] } });
    expect(c.status).toBe(201);
    await api(d, 'POST', `/containers/${c.json.Id}/start`);
    await api(d, 'POST', `/containers/${c.json.Id}/wait`);
    expect(await ok(d, ['logs', c.json.Id])).toBe('file');
    const up = await api(d, 'POST', '/containers/create', { Image: 'busybox', HostConfig: { Mounts: [{ ...mount, VolumeOptions: { Subpath: '../escape' } }] } });
    expect(up.status).toBe(400);
    const missing = await api(d, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { Mounts: [{ ...mount, VolumeOptions: { Subpath: 'nope' } }] } });
    const start = await api(d, 'POST', `/containers/${missing.json.Id}/start`);
    expect(start.status).toBe(400);
    expect(start.json.message).toMatch(/cannot access path nope in volume sub-vol/);
  });
});

describe('restart policy', () => {
  test('right after wait a restarting container says so; rm is refused without force and works with it (5 runs)', async () => {
    for (let i = 0; i < 5; i++) {
      const id = await ok(d, ['run', '-d', '--restart', 'always', '--network', 'none', 'busybox', 'sh', '-c', 'sleep 0.2; exit 3']);
      expect(await ok(d, ['wait', id])).toBe('3');
      const state = JSON.parse(await ok(d, ['inspect', '-f', '{{json .State}}', id]));
      const count = Number(await ok(d, ['inspect', '-f', '{{.RestartCount}}', id]));
      // Either still waiting for its restart or already up again: never "exited", and counted.
      expect(['restarting', 'running']).toContain(state.Status);
      expect(count).toBeGreaterThanOrEqual(1);
      if (state.Status === 'restarting') {
        const rm = await api(d, 'DELETE', `/containers/${id}`);
        expect(rm.status).toBe(409);
        expect(rm.json.message).toMatch(/You cannot remove a restarting container|container is running/);
      }
      const forced = await api(d, 'DELETE', `/containers/${id}?force=1`);
      expect(forced.status).toBe(204);
      expect((await api(d, 'GET', `/containers/${id}/json`)).status).toBe(404);
    }
  });
});

describe('engine restart', () => {
  test('a running --rm container, attached to a client, survives a restart of the engine and goes when it exits', async () => {
    const first = await daemonWithBusybox({ keep: true });
    let second: Daemon | undefined;
    try {
      const attached = spawn(DOCKER, ['run', '--rm', '--name', 'rm-attached', 'busybox', 'sleep', '300'], { env: { ...process.env, ...first.env }, stdio: 'ignore' });
      const cliDone = new Promise((r) => attached.once('exit', r));
      const id = await waitFor('the attached container', async () => (await api(first, 'GET', '/containers/rm-attached/json')).json?.State?.Running && (await api(first, 'GET', '/containers/rm-attached/json')).json.Id);
      await first.stop();
      // SIGTERM was enough: the attached stream did not hold the engine until the container ended.
      expect(first.process.signalCode).not.toBe('SIGKILL');
      await cliDone;
      second = await startDaemon({ dataRoot: first.dataRoot, execRoot: first.execRoot });
      expect(await ok(second, ['inspect', '-f', '{{.State.Status}} {{.HostConfig.AutoRemove}}', id])).toBe('running true');
      await ok(second, ['kill', id]);
      await waitFor('the --rm container gone', async () => (await api(second!, 'GET', `/containers/${id}/json`)).status === 404);
    } finally {
      await second?.stop();
      rmSync(dirname(first.dataRoot), { recursive: true, force: true });
    }
  });
});

describe('update and defaults', () => {
  test('docker update --pids-limit -1 lifts the limit; an explicit empty IpcMode is "private"', async () => {
    const id = await ok(d, ['run', '-d', '--pids-limit', '50', 'busybox', 'sleep', '60']);
    const pid = Number(await ok(d, ['inspect', '-f', '{{.State.Pid}}', id]));
    const pidsMax = () => {
      const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => /(^|:)pids:|^0::/.test(l))!;
      const rel = line.split(':')[2];
      const base = line.startsWith('0::') ? '/sys/fs/cgroup' : '/sys/fs/cgroup/pids';
      return readFileSync(`${base}${rel}/pids.max`, 'utf8').trim();
    };
    expect(pidsMax()).toBe('50');
    await ok(d, ['update', '--pids-limit', '-1', id]);
    expect(pidsMax()).toBe('max');
    expect(await ok(d, ['inspect', '-f', '{{json .HostConfig.PidsLimit}}', id])).toBe('0');
    await ok(d, ['rm', '-f', id]);
    const c = await api(d, 'POST', '/containers/create', { Image: 'busybox', HostConfig: { IpcMode: '' } });
    expect((await api(d, 'GET', `/containers/${c.json.Id}/json`)).json.HostConfig.IpcMode).toBe('private');
    await api(d, 'DELETE', `/containers/${c.json.Id}`);
  });
});

describe('stdin of an attach, as dockerd gives it', () => {
  const client = () => new Docker({ socketPath: d.socket });

  /** An attach with stdin through dockerode; `ended` resolves when the engine ends the stream. */
  async function attach(c: Docker.Container): Promise<{ stream: Duplex; output: () => string; ended: Promise<void> }> {
    const stream = await c.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true }) as unknown as Duplex;
    const chunks: Buffer[] = [];
    stream.on('data', (b: Buffer) => chunks.push(b));
    const ended = new Promise<void>((resolve) => { stream.on('end', resolve); stream.on('close', resolve); });
    return { stream, output: () => Buffer.concat(chunks).toString('latin1'), ended };
  }

  test('a tty container without OpenStdin never gets the client\'s stdin on its pty', async () => {
    const c = await client().createContainer({ Image: 'busybox', Tty: true, OpenStdin: false, Cmd: ['sh', '-c', 'read -t 2 x; echo "got[$x]"'] });
    const a = await attach(c);
    await c.start();
    a.stream.write('hello\n');
    expect(await c.wait()).toMatchObject({ StatusCode: expect.any(Number) });
    await a.ended;
    expect(a.output()).toContain('got[]');
    expect(a.output()).not.toContain('hello');
    await c.remove({ force: true });
  });

  test('tty with StdinOnce: the end of stdin ends the attach and the process keeps its pty open', async () => {
    const c = await client().createContainer({ Image: 'busybox', Tty: true, OpenStdin: true, StdinOnce: true, Cmd: ['cat'] });
    const a = await attach(c);
    await c.start();
    a.stream.write('hi-tty\n');
    await waitFor('the echo of cat', async () => a.output().includes('hi-tty\r\nhi-tty'));
    a.stream.end();
    await a.ended;
    expect((await c.inspect()).State.Running).toBe(true);
    await c.remove({ force: true });
  });

  test('no tty, no StdinOnce: the end of stdin ends the attach; stdin stays open for the next one', async () => {
    const c = await client().createContainer({ Image: 'busybox', OpenStdin: true, StdinOnce: false, Cmd: ['cat'] });
    const first = await attach(c);
    await c.start();
    first.stream.write('one\n');
    first.stream.end();
    await first.ended;
    const second = await attach(c);
    second.stream.write('two\n');
    await waitFor('both lines in the logs', async () => (await ok(d, ['logs', c.id])) === 'one\ntwo');
    expect((await c.inspect()).State.Running).toBe(true);
    second.stream.destroy();
    await c.remove({ force: true });
  });

  test('no tty with StdinOnce (docker run -i): the end of stdin closes the process\'s stdin; detach keys are data', async () => {
    // ctrl-p ctrl-q are no detach sequence without a tty: they reach cat like any byte
    const out = await ok(d, ['run', '-i', '--rm', 'busybox', 'od', '-An', '-c'], { input: 'a\x10\x11b\n' });
    expect(out.replace(/\s+/g, ' ').trim()).toBe('a 020 021 b \\n');
  });
});

describe('volumes right after the container that used them', () => {
  test('volume rm right after run --rm, and right after rm, never finds the volume in use (20 and 5 runs)', async () => {
    const vol = `race-${Date.now().toString(36)}`;
    for (let i = 0; i < 20; i++) {
      await ok(d, ['run', '--rm', '-v', `${vol}:/data`, 'busybox', 'true']);
      await ok(d, ['volume', 'rm', vol]);
    }
    for (let i = 0; i < 5; i++) {
      const id = await ok(d, ['run', '-d', '-v', `${vol}:/data`, 'busybox', 'true']);
      await ok(d, ['wait', id]);
      await ok(d, ['rm', id]);
      await ok(d, ['volume', 'rm', vol]);
    }
  });
});

describe('ports in the list view', () => {
  test('docker ps and listContainers show each published binding and the exposed ports, as dockerd lists them', async () => {
    const id = await ok(d, ['run', '-d', '-p', '127.0.0.1::7100', '-p', '7101', '--expose', '7102', 'busybox', 'sleep', '60']);
    const bound = JSON.parse(await ok(d, ['inspect', '-f', '{{json .NetworkSettings.Ports}}', id]));
    const p0 = Number(bound['7100/tcp'][0].HostPort);
    const p1 = Number(bound['7101/tcp'][0].HostPort);
    const byKey = (a: { PrivatePort: number; IP?: string }, b: { PrivatePort: number; IP?: string }) => a.PrivatePort - b.PrivatePort || (a.IP ?? '').localeCompare(b.IP ?? '');
    const listed = (await new Docker({ socketPath: d.socket }).listContainers({ filters: { id: [id] } }))[0].Ports;
    expect([...listed].sort(byKey)).toEqual([
      { IP: '127.0.0.1', PrivatePort: 7100, PublicPort: p0, Type: 'tcp' },
      { IP: '::', PrivatePort: 7101, PublicPort: p1, Type: 'tcp' },
      { IP: '0.0.0.0', PrivatePort: 7101, PublicPort: p1, Type: 'tcp' },
      { PrivatePort: 7102, Type: 'tcp' },
    ]);
    const shown = await ok(d, ['ps', '--filter', `id=${id}`, '--format', '{{.Ports}}']);
    expect(shown).toContain(`127.0.0.1:${p0}->7100/tcp`);
    expect(shown).toContain(`0.0.0.0:${p1}->7101/tcp`);
    expect(shown).toMatch(new RegExp(`(:::|\\[::\\]:)${p1}->7101/tcp`));
    expect(shown).toContain('7102/tcp');
    // a stopped container has no ports, as in dockerd
    await ok(d, ['rm', '-f', id]);
    const created = await ok(d, ['create', '-p', '7103', 'busybox']);
    expect((await new Docker({ socketPath: d.socket }).listContainers({ all: true, filters: { id: [created] } }))[0].Ports).toEqual([]);
    await ok(d, ['rm', created]);
  });
});
