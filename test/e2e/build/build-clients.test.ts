/**
 * Other clients of POST /build: berth's own `berth build`, python3-docker's
 * images.build; and what a built image goes on to: docker push, and --cache-from
 * on another engine that only has the image (loaded), not its build.
 */
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../../src/common/paths.js';
import { startDaemon, type Daemon } from '../../fixtures/daemon.js';
import { startRegistry, type Registry } from '../../fixtures/registry.js';
import { daemonWithBusybox, docker, ok } from '../containers/fixture.js';
import { makeContext, stepCache } from './fixture.js';

const BERTH = join(projectRoot(), 'bin', 'berth');
let d: Daemon;

interface Result { code: number; stdout: string; stderr: string }

function berth(args: string[], input?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DOCKER_')));
    const child = spawn(BERTH, args, { env: { ...env, DOCKER_HOST: d.host } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

beforeAll(async () => {
  d = await daemonWithBusybox();
}, 60000);
afterAll(async () => {
  await d?.stop();
});

const DOCKERFILE = 'FROM busybox\nARG X=unset\nCOPY . /ctx/\nRUN echo "x=$X" > /x.txt\nCMD ["cat", "/x.txt"]\n';

test('berth build: tags, build args, labels, --iidfile, -q, -f -, a Dockerfile on stdin, a failing step', async () => {
  const ctx = makeContext({ Dockerfile: DOCKERFILE, '.dockerignore': 'ignored.txt\n', 'kept.txt': 'k', 'ignored.txt': 'i' });
  const iid = join(ctx, '..', `iid-${process.pid}`);
  const r = await berth(['build', '-t', 'bb:1', '-t', 'bb:2', '--build-arg', 'X=1', '--label', 'l=v', '--iidfile', iid, ctx]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^Step 1\/6 : FROM busybox$/m);
  expect(r.stdout).toContain('Successfully tagged bb:2');
  const id = readFileSync(iid, 'utf8');
  expect(await ok(d, ['image', 'inspect', '-f', '{{.Id}} {{index .Config.Labels "l"}}', 'bb:1'])).toBe(`${id} v`);
  expect(await ok(d, ['run', '--rm', 'bb:2'])).toBe('x=1');
  expect(await ok(d, ['run', '--rm', 'bb:2', 'ls', '-A', '/ctx'])).toBe('.dockerignore\nDockerfile\nkept.txt');

  const hist = await berth(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Size}}', 'bb:1']);
  expect(hist.stdout.split('\n')[0]).toBe('/bin/sh -c #(nop)  LABEL l=v|0B');
  expect(hist.stdout).toContain('|1 X=1 /bin/sh -c echo "x=$X" > /x.txt|');
  const table = await berth(['history', 'bb:1']);
  expect(table.stdout.split('\n')[0]).toMatch(/^IMAGE +CREATED +CREATED BY +SIZE +COMMENT$/);
  expect(table.stdout.split('\n')[1]).toMatch(new RegExp(`^${id.slice(7, 19)} `));

  const q = await berth(['build', '-q', '--build-arg', 'X=1', '--label', 'l=v', ctx]);
  expect(q.stdout.trim()).toBe(id);

  const stdinDf = await berth(['build', '-t', 'bb:stdin', '-f', '-', ctx], 'FROM busybox\nCOPY kept.txt /\nCMD ["cat", "/kept.txt"]\n');
  expect(stdinDf.code).toBe(0);
  expect(await ok(d, ['run', '--rm', 'bb:stdin'])).toBe('k');

  const bare = await berth(['build', '-t', 'bb:bare', '-'], 'FROM busybox\nRUN echo bare > /b\n');
  expect(bare.code).toBe(0);
  expect(await ok(d, ['run', '--rm', 'bb:bare', 'cat', '/b'])).toBe('bare');

  const fail = await berth(['build', '-'], 'FROM busybox\nRUN exit 7\n');
  expect(fail.code).toBe(7);
  expect(fail.stderr).toContain("returned a non-zero code: 7");
}, 60000);

test('python3-docker builds through images.build', async () => {
  const ctx = makeContext({ Dockerfile: DOCKERFILE, 'a.txt': 'a' });
  const script = [
    'import docker, sys',
    `c = docker.DockerClient(base_url="unix://${d.socket}", version="1.41")`,
    `img, logs = c.images.build(path=sys.argv[1], tag="py:1", buildargs={"X": "py"}, rm=True)`,
    'print(img.id)',
    'print("".join(l.get("stream", "") for l in logs))',
  ].join('\n');
  const { stdout } = await promisify(execFile)('python3', ['-c', script, ctx], { timeout: 60000 });
  const [id] = stdout.split('\n');
  expect(id).toBe(await ok(d, ['image', 'inspect', '-f', '{{.Id}}', 'py:1']));
  expect(stdout).toContain('Step 4/5 : RUN echo "x=$X" > /x.txt');
  expect(await ok(d, ['run', '--rm', 'py:1'])).toBe('x=py');
}, 60000);

test('a built image pushes; --cache-from on an engine that only loaded it hits every step', async () => {
  const ctx = makeContext({ Dockerfile: DOCKERFILE, 'a.txt': 'a' });
  const registry: Registry = await startRegistry();
  let d2: Daemon | undefined;
  try {
    const name = `${registry.host}/built/app:1`;
    const first = await docker(d, ['build', '-t', name, ctx], { timeoutMs: 60000 });
    expect(first.code).toBe(0);
    expect((await docker(d, ['push', name])).code).toBe(0);
    const hist = await ok(d, ['history', '--format', '{{.CreatedBy}}', name]);
    expect(hist.split('\n')[0]).toBe('/bin/sh -c #(nop)  CMD ["cat" "/x.txt"]');

    // The same base image (an import on d2 would have another id), and the built image only.
    // --pull fetches the base from its registry even though it is here.
    const onTop = makeContext({ Dockerfile: `FROM ${name}\nRUN cat /x.txt\n` });
    const pulled = await docker(d, ['build', '--pull', onTop], { timeoutMs: 60000 });
    expect(pulled.code).toBe(0);
    expect(pulled.stdout).toContain(`Pulling ${name}`);
    expect(pulled.stdout).toContain('x=unset');

    d2 = await startDaemon();
    const tar = join(ctx, '..', `saved-${process.pid}.tar`);
    await ok(d, ['save', '-o', tar, name, 'busybox:latest']);
    await ok(d2, ['load', '-i', tar]);
    const again = await docker(d2, ['build', '--cache-from', name, '-t', 'again:1', ctx], { timeoutMs: 60000 });
    expect(again.code).toBe(0);
    expect(stepCache(again.stdout).slice(1).every((s) => s.cached)).toBe(true);
    expect(await ok(d2, ['image', 'inspect', '-f', '{{.Id}}', 'again:1'])).toBe(await ok(d, ['image', 'inspect', '-f', '{{.Id}}', name]));
    // Without --cache-from that engine has no cache for it.
    const cold = await docker(d2, ['build', ctx], { timeoutMs: 60000 });
    expect(stepCache(cold.stdout).slice(1).some((s) => s.cached)).toBe(false);
  } finally {
    await d2?.stop();
    await registry.stop();
  }
}, 90000);
