/**
 * berth's own docker-compatible commands (bin/berth run, ps, images, pull, exec,
 * logs, …) against a berthd of the test's own: output and exit statuses, detached
 * containers, the registry fixture, errors, mutual TLS through DOCKER_* variables,
 * and a docker context written the way `berth machine use` writes it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../src/common/paths.js';
import { selectContext, writeContext } from '../../src/machine/context.js';
import { api, startDaemon, type Daemon } from '../fixtures/daemon.js';
import { buildImage, dockerArchive, pushImage } from '../fixtures/images.js';
import { startRegistry, type Registry } from '../fixtures/registry.js';
import { makeTlsFiles, type TlsFiles } from '../fixtures/tls.js';

import { jest } from '@jest/globals';

jest.setTimeout(60_000);

const BERTH = join(projectRoot(), 'bin', 'berth');
const MANIFEST = join(projectRoot(), 'oclif.manifest.json');

interface Result { code: number; stdout: string; stderr: string }

let d: Daemon;
let registry: Registry;
let tls: TlsFiles;
let work: string;
let dockerConfig: string;

/** The environment without any DOCKER_* of the machine running the tests. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DOCKER_')));
  return { ...env, DOCKER_CONFIG: dockerConfig, ...extra };
}

function berthWith(env: Record<string, string>, args: string[], input?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(BERTH, args, { env: cleanEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

const berth = (args: string[], input?: string) => berthWith({ DOCKER_HOST: d.host }, args, input);

async function ok(args: string[], input?: string): Promise<string> {
  const r = await berth(args, input);
  if (r.code !== 0) throw new Error(`berth ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

beforeAll(async () => {
  if (!existsSync(join(projectRoot(), 'dist', 'src', 'commands', 'run.js')) || !existsSync(MANIFEST)) {
    throw new Error('bin/berth needs the compiled CLI: run npm run build');
  }
  work = mkdtempSync(join(tmpdir(), 'berth-client-'));
  dockerConfig = join(work, 'docker-config');
  tls = makeTlsFiles(join(work, 'tls'));
  const image = await buildImage({ cmd: ['sh'], labels: { 'org.berth.test': 'client' } });
  registry = await startRegistry();
  await pushImage(registry.url, 'lib/busybox', 'latest', image);
  d = await startDaemon({ tcp: { tls: { ca: tls.ca, cert: tls.serverCert, key: tls.serverKey } } });
  const load = await api(d, 'POST', '/images/load?quiet=1', await dockerArchive([{ image, repoTags: ['busybox:latest'] }]));
  if (load.status !== 200) throw new Error(`loading busybox failed: ${load.status} ${load.body}`);
});

afterAll(async () => {
  try {
    if (d) {
      // Containers left by a failed test would keep their rootfs mounted past the daemon.
      const left = await api(d, 'GET', '/containers/json?all=1');
      for (const c of left.json ?? []) await api(d, 'DELETE', `/containers/${c.Id}?force=1`);
      await d.stop();
    }
  } finally {
    await registry?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  }
});

describe('berth run', () => {
  test('prints stdout and stderr apart and exits with the container status; --rm removes it', async () => {
    const r = await berth(['run', '--rm', '--name', 'exit3', '--network', 'none', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    const gone = await berth(['inspect', '--type', 'container', 'exit3']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe('berth: no such object: exit3\n');
  });

  test('-e, -w, -u, --entrypoint and grouped flags reach the process; -i passes stdin', async () => {
    expect(await ok(['run', '--rm', '-e', 'FOO=bar baz', '-w', '/tmp/w', '-u', '65534:65534', 'busybox', 'sh', '-c', 'echo "$FOO|$(pwd)|$(id -u)"'])).toBe('bar baz|/tmp/w|65534\n');
    expect(await ok(['run', '--rm', '--entrypoint', 'echo', 'busybox', '-n', 'no', 'newline'])).toBe('no newline');
    expect(await ok(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'tr a-z A-Z; echo done'], 'hello\nworld\n')).toBe('HELLO\nWORLD\ndone\n');
  });

  test('-d, logs, ps, stop, start, wait and rm', async () => {
    const id = (await ok(['run', '-d', '--name', 'bg', 'busybox', 'sh', '-c', 'echo started; echo warn >&2; trap "exit 7" TERM; while :; do sleep 0.1; done'])).trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    let logs: Result;
    const deadline = Date.now() + 10_000;
    do logs = await berth(['logs', 'bg']);
    while (!logs.stdout.includes('started') && Date.now() < deadline);
    expect(logs).toEqual({ code: 0, stdout: 'started\n', stderr: 'warn\n' });
    const stamped = await berth(['logs', '-t', '--tail', 'all', 'bg']);
    expect(stamped).toEqual({ code: 0, stdout: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z started\n$/), stderr: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z warn\n$/) });

    const running = (await ok(['ps', '--format', 'json'])).trim().split('\n').map((l) => JSON.parse(l));
    expect(running).toEqual([expect.objectContaining({ ID: id.slice(0, 12), Names: 'bg', Image: 'busybox', State: 'running' })]);
    const tableOut = (await ok(['ps'])).split('\n');
    expect(tableOut[0]).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    expect(tableOut[1]).toMatch(new RegExp(`^${id.slice(0, 12)}\\s+busybox\\s+".*"\\s+.* ago\\s+Up .*\\s+bg$`));

    expect(await ok(['stop', '-t', '5', 'bg'])).toBe('bg\n');
    expect(await ok(['wait', 'bg'])).toBe('7\n');
    const all = (await ok(['ps', '-a', '--json', '--filter', 'name=bg'])).trim().split('\n').map((l) => JSON.parse(l));
    expect(all).toEqual([expect.objectContaining({ Names: 'bg', State: 'exited', Status: expect.stringMatching(/^Exited \(7\)/) })]);
    expect(await ok(['inspect', '-f', '{{.State.ExitCode}} {{.Name}}', 'bg'])).toBe('7 /bg\n');

    expect(await ok(['start', 'bg'])).toBe('bg\n');
    const rmRunning = await berth(['rm', 'bg']);
    expect(rmRunning.code).toBe(1);
    expect(rmRunning.stderr).toMatch(/^berth: .*(running|stop)/i);
    expect(await ok(['rm', '-f', 'bg'])).toBe('bg\n');
    expect(await ok(['ps', '-aq'])).toBe('');
  });

  test('start -a reruns a created container attached and returns its status', async () => {
    const id = (await ok(['create', '--name', 'later', 'busybox', 'sh', '-c', 'echo again; exit 5'])).trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(await berth(['start', '-a', 'later'])).toEqual({ code: 5, stdout: 'again\n', stderr: '' });
    await ok(['rm', 'later']);
  });
});

describe('berth exec', () => {
  test('output, exit status, -e/-u/-w, -i with stdin, -d', async () => {
    await ok(['run', '-d', '--name', 'box', 'busybox', 'sleep', '300']);
    expect(await berth(['exec', 'box', 'sh', '-c', 'echo in; echo oops >&2; exit 4'])).toEqual({ code: 4, stdout: 'in\n', stderr: 'oops\n' });
    expect(await ok(['exec', '-e', 'A=1', '-u', '65534', '-w', '/tmp', 'box', 'sh', '-c', 'echo $A $(id -u) $(pwd)'])).toBe('1 65534 /tmp\n');
    expect(await ok(['exec', '-i', 'box', 'wc', '-l'], 'a\nb\nc\n')).toMatch(/^\s*3\n$/);
    expect(await ok(['exec', '-d', 'box', 'touch', '/tmp/detached'])).toBe('');
    let seen = false;
    for (let i = 0; i < 50 && !seen; i++) seen = (await berth(['exec', 'box', 'test', '-e', '/tmp/detached'])).code === 0;
    expect(seen).toBe(true);
    const missing = await berth(['exec', 'box', 'no-such-command']);
    // dockerd's statuses since the engine reports them (9c74913): 127 not found, 126 not executable.
    expect(missing.code).toBe(127);
    const noContainer = await berth(['exec', 'nope', 'true']);
    expect(noContainer.code).toBe(1);
    expect(noContainer.stderr).toMatch(/^berth: .*nope.*\n$/);
    await ok(['rm', '-f', 'box']);
  });
});

describe('images and the registry', () => {
  test('images lists busybox as a table, as JSON and quietly', async () => {
    const rows = (await ok(['images', '--format', 'json'])).trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toEqual(expect.arrayContaining([expect.objectContaining({ Repository: 'busybox', Tag: 'latest', ID: expect.stringMatching(/^[0-9a-f]{12}$/) })]));
    expect((await ok(['images', '-q'])).trim().split('\n')).toContain(rows.find((r) => r.Repository === 'busybox').ID);
    expect((await ok(['images'])).split('\n')[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
  });

  test('pull prints progress and the reference; run pulls a missing image; tag, push and rmi', async () => {
    const ref = `${registry.host}/lib/busybox`;
    const pulled = await ok(['pull', ref]);
    expect(pulled).toMatch(/Pull(ing|ed)/);
    expect(pulled.trim().split('\n').pop()).toBe(`${ref}:latest`);

    await ok(['tag', ref, `${registry.host}/copy/busybox:v2`]);
    await ok(['push', `${registry.host}/copy/busybox:v2`]);
    const rmi = await ok(['rmi', `${registry.host}/copy/busybox:v2`, ref]);
    expect(rmi).toContain(`Untagged: ${registry.host}/copy/busybox:v2`);

    const r = await berth(['run', '--rm', `${registry.host}/copy/busybox:v2`, 'echo', 'from the registry']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('from the registry\n');
    expect(r.stderr).toContain(`Unable to find image '${registry.host}/copy/busybox:v2' locally`);
    await ok(['rmi', `${registry.host}/copy/busybox:v2`]);
  });

  test('a bad image name and a missing image: one line, exit 125 for run, 1 for pull', async () => {
    const bad = await berth(['run', '--rm', 'Bad:Name!']);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toMatch(/^berth: invalid reference format[^\n]*\n$/);
    const missing = await berth(['run', '--rm', `${registry.host}/no/such:image`]);
    expect(missing.code).toBe(125);
    expect(missing.stderr.trim().split('\n').pop()).toMatch(/^berth: .*(not found|unknown|no such|manifest)/i);
    const pull = await berth(['pull', `${registry.host}/no/such:image`]);
    expect(pull.code).toBe(1);
    expect(pull.stderr).toMatch(/^berth: /);
    expect(pull.stderr).not.toMatch(/\n\s+at /);
  });

  test('usage errors exit 2 (125 for run) with a hint', async () => {
    const unknown = await berth(['ps', '--bogus']);
    expect(unknown).toEqual({ code: 2, stdout: '', stderr: "berth: unknown flag: --bogus\nSee 'berth ps --help'.\n" });
    expect((await berth(['rm'])).code).toBe(2);
    expect((await berth(['run'])).code).toBe(125);
    const help = await berth(['run', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('$ berth run [OPTIONS] IMAGE [COMMAND] [ARG...]');
    expect(help.stdout).toMatch(/-e, --env=KEY=VALUE\.\.\.\s+set environment variables/);
  });
});

describe('endpoints', () => {
  test('mutual TLS from DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH; a foreign certificate is refused', async () => {
    const env = { DOCKER_HOST: d.tcp!, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: tls.clientDir };
    const r = await berthWith(env, ['run', '--rm', 'busybox', 'echo', 'over tls']);
    expect(r).toEqual({ code: 0, stdout: 'over tls\n', stderr: '' });
    expect((await berthWith(env, ['info', '--format', '{{.DockerRootDir}}'])).stdout).toBe(`${d.dataRoot}\n`);
    const foreign = await berthWith({ ...env, DOCKER_CERT_PATH: tls.foreignDir }, ['ps']);
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toMatch(/^berth: [^\n]+\n$/);
    const noCerts = await berthWith({ ...env, DOCKER_CERT_PATH: join(work, 'nothing') }, ['ps']);
    expect(noCerts.code).toBe(1);
    expect(noCerts.stderr).toMatch(/^berth: cannot read the TLS CA .*DOCKER_CERT_PATH/);
  });

  test('the current docker context, DOCKER_CONTEXT and --context', async () => {
    const cfg = join(work, 'ctx-config');
    await writeContext('berth-test', 'test engine', d.tcp!, { ca: join(tls.clientDir, 'ca.pem'), cert: join(tls.clientDir, 'cert.pem'), key: join(tls.clientDir, 'key.pem') }, cfg);
    await selectContext('berth-test', cfg);
    const viaCurrent = await berthWith({ DOCKER_CONFIG: cfg }, ['info', '--format', '{{.DockerRootDir}}']);
    expect(viaCurrent).toEqual({ code: 0, stdout: `${d.dataRoot}\n`, stderr: '' });
    expect((await berthWith({ DOCKER_CONFIG: cfg }, ['run', '--rm', 'busybox', 'echo', 'via context'])).stdout).toBe('via context\n');
    await selectContext(undefined, cfg);
    expect((await berthWith({ DOCKER_CONFIG: cfg, DOCKER_CONTEXT: 'berth-test' }, ['ps', '-q'])).code).toBe(0);
    expect((await berthWith({ DOCKER_CONFIG: cfg }, ['ps', '-q', '--context', 'berth-test'])).code).toBe(0);
    const missing = await berthWith({ DOCKER_CONFIG: cfg }, ['ps', '--context', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^berth: context "nope" does not exist/);
    const down = await berthWith({ DOCKER_HOST: `unix://${join(work, 'no.sock')}` }, ['ps']);
    expect(down).toEqual({ code: 1, stdout: '', stderr: expect.stringMatching(/^berth: cannot connect to the engine at unix:\/\/.*no\.sock: is berthd running\?/) });
  });
});
