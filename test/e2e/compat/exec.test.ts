/**
 * Exec as dockerd does it, seen from clients other than the docker CLI: Debian's
 * python3-docker SDK (its buffered HTTP reader), raw upgraded requests, dockerode.
 */
import { jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import Docker from 'dockerode';
import { api, type Daemon } from '../../fixtures/daemon.js';
import { daemonWithBusybox, docker, ok, waitFor } from '../containers/fixture.js';
import { hijacked, requirePythonDocker } from './helpers.js';

jest.setTimeout(120_000);

let d: Daemon;
let client: Docker;
let box: string;

beforeAll(async () => {
  requirePythonDocker();
  d = await daemonWithBusybox();
  client = new Docker({ socketPath: d.socket });
  box = await ok(d, ['run', '-d', '--name', 'execbox', 'busybox', 'sleep', '600']);
});

afterAll(async () => {
  if (d) {
    await docker(d, ['rm', '-f', 'execbox']);
    await d.stop();
  }
});

function python(script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', script, ...args], { timeout: 90_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

const EXEC_RUN_LOOP = `
import docker, json, sys
c = docker.DockerClient(base_url='unix://' + sys.argv[1])
ct = c.containers.get(sys.argv[2])
runs = []
for i in range(60):
    r = ct.exec_run(['sh', '-c', 'echo hello'])
    runs.append([r.exit_code, r.output.decode()])
    r = ct.exec_run(['sh', '-c', 'echo out; echo err >&2'], demux=True)
    runs.append([r.exit_code, [(r.output[0] or b'').decode(), (r.output[1] or b'').decode()]])
print(json.dumps(runs))
`;

describe('exec through the python docker SDK', () => {
  test('exec_run never loses the output of a short-lived exec (60 runs, plain and demuxed)', async () => {
    const runs = JSON.parse(await python(EXEC_RUN_LOOP, [d.socket, box])) as [number, unknown][];
    expect(runs).toHaveLength(120);
    const plain = runs.filter((_, i) => i % 2 === 0);
    const demuxed = runs.filter((_, i) => i % 2 === 1);
    expect(plain.filter(([code, out]) => code !== 0 || out !== 'hello\n')).toEqual([]);
    expect(demuxed.filter(([code, out]) => code !== 0 || JSON.stringify(out) !== JSON.stringify(['out\n', 'err\n']))).toEqual([]);
  });

  test('a tty exec keeps its terminal when start sends {"Tty": false}', async () => {
    const { Id } = (await api(d, 'POST', `/containers/${box}/exec`, { Cmd: ['sh', '-c', 'echo a; echo b'], Tty: true, AttachStdout: true, AttachStderr: true })).json;
    const r = await hijacked(d, `/v1.47/exec/${Id}/start`, { Detach: false, Tty: false });
    expect(r.head).toMatch(/^HTTP\/1.1 101/);
    expect(r.head).toMatch(/Content-Type: application\/vnd.docker.raw-stream/i);
    expect(r.body.toString()).toBe('a\r\nb\r\n');
    expect((await api(d, 'GET', `/exec/${Id}/json`)).json.ProcessConfig.tty).toBe(true);
  });
});

describe('an exec whose process cannot start', () => {
  test('docker exec of a missing executable prints the reason and exits 127', async () => {
    const r = await docker(d, ['exec', box, 'no-such-binary']);
    expect(r.code).toBe(127);
    expect(r.stderr + r.stdout).toMatch(/OCI runtime exec failed: exec `no-such-binary`: executable file not found in \$PATH/);
    expect(r.stderr).not.toMatch(/received 500|at \w+ \(/);
  });

  test('a non-executable file and an unusable working directory exit 126', async () => {
    const notExec = await docker(d, ['exec', box, '/etc/passwd']);
    expect(notExec.code).toBe(126);
    expect(notExec.stdout + notExec.stderr).toMatch(/Permission denied/);
    const badDir = await docker(d, ['exec', '-w', '/no/such/dir', box, 'true']);
    expect(badDir.code).toBe(126);
    expect(badDir.stdout + badDir.stderr).toMatch(/chdir to cwd `\/no\/such\/dir`/);
  });

  test('through the API: the start answers, the stream carries the message, inspect has the exit code', async () => {
    const exec = await client.getContainer(box).exec({ Cmd: ['no-such-binary'], AttachStdout: true, AttachStderr: true });
    const r = await hijacked(d, `/exec/${exec.id}/start`, {});
    expect(r.head).toMatch(/^HTTP\/1.1 101/);
    // One stdout frame with the message, as dockerd writes it.
    expect(r.body[0]).toBe(1);
    expect(r.body.subarray(8).toString()).toMatch(/executable file not found/);
    const info = await exec.inspect();
    expect(info.ExitCode).toBe(127);
    expect(info.Running).toBe(false);
    const detached = await client.getContainer(box).exec({ Cmd: ['no-such-binary'] });
    const rd = await api(d, 'POST', `/exec/${detached.id}/start`, { Detach: true });
    expect(rd.status).toBe(400);
    expect(rd.json.message).toMatch(/^OCI runtime exec failed: exec `no-such-binary`/);
    expect((await detached.inspect()).ExitCode).toBe(127);
  });
});

describe('JSON field names match case-insensitively, as Go decodes them', () => {
  test('exec create with lower-case and camel-case names', async () => {
    const r = await api(d, 'POST', `/containers/${box}/exec`, { cmd: ['sh', '-c', 'echo $FOO; pwd'], env: ['FOO=bar'], workingdir: '/tmp', attachStdout: true, detachKeys: 'ctrl-x' });
    expect(r.status).toBe(201);
    const info = (await api(d, 'GET', `/exec/${r.json.Id}/json`)).json;
    expect(info.DetachKeys).toBe('ctrl-x');
    expect(info.OpenStdout).toBe(true);
    const out = await hijacked(d, `/exec/${r.json.Id}/start`, { detach: false, tty: false });
    expect(out.body.subarray(8).toString()).toContain('bar\n');
    expect(out.body.toString()).toContain('/tmp');
  });

  test('container create: struct fields in any case, map keys (Labels) kept as sent', async () => {
    const r = await api(d, 'POST', '/containers/create?name=casey', { image: 'busybox', cmd: ['true'], labels: { 'Mixed.Case': 'v', lower: 'w' }, hostconfig: { memory: 64 << 20, restartpolicy: { name: 'no' } }, Env: ['A=1'] });
    expect(r.status).toBe(201);
    const info = (await api(d, 'GET', '/containers/casey/json')).json;
    expect(info.Config.Image).toBe('busybox');
    expect(info.Config.Cmd).toEqual(['true']);
    expect(info.Config.Labels).toEqual({ 'Mixed.Case': 'v', lower: 'w' });
    expect(info.HostConfig.Memory).toBe(64 << 20);
    await api(d, 'DELETE', '/containers/casey');
  });
});

describe('stdin of an exec, as dockerd takes it', () => {
  async function started(tty: boolean) {
    const e = await client.getContainer(box).exec({ Cmd: ['cat'], AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: tty });
    const s = await e.start({ hijack: true, stdin: true, Tty: tty });
    let out = '';
    s.on('data', (b: Buffer) => { out += b.toString('latin1'); });
    const ended = new Promise<void>((resolve) => { s.on('end', resolve); s.on('close', resolve); });
    return { e, s, out: () => out, ended };
  }

  test('tty: the end of stdin ends the attach and the process goes on', async () => {
    const x = await started(true);
    x.s.write('xy\n');
    await waitFor('the echo', async () => x.out().includes('xy\r\nxy\r\n'));
    x.s.end();
    await x.ended;
    expect((await x.e.inspect()).Running).toBe(true);
  });

  test('no tty: detach keys are data, and the end of stdin closes the process\'s stdin', async () => {
    const x = await started(false);
    x.s.write('x\x10\x11y\n');
    x.s.end();
    await x.ended;
    expect(x.out()).toContain('x\x10\x11y\n');
    expect(await x.e.inspect()).toMatchObject({ Running: false, ExitCode: 0 });
  });
});
