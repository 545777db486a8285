/**
 * berth's client commands beyond run/ps/images (network, volume, cp, commit, save/load,
 * export/import, top, stats, system, events) through bin/berth against a berthd of the
 * test's own, compared with the real docker CLI's output where that is deterministic.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../src/common/paths.js';
import { api, startDaemon, type Daemon } from '../fixtures/daemon.js';
import { buildImage, dockerArchive, pushImage } from '../fixtures/images.js';
import { startRegistry } from '../fixtures/registry.js';
import { dockerCli, requireDockerCli } from '../fixtures/docker-cli.js';
import { octet } from '../integration/networks/netenv.js';

import { jest } from '@jest/globals';

jest.setTimeout(60_000);

const BERTH = join(projectRoot(), 'bin', 'berth');
const o = octet(226, 227);

interface Result { code: number; stdout: string; stderr: string }

let d: Daemon;
let work: string;
const { docker } = dockerCli(() => d.env);

function berth(args: string[], input?: string | Buffer, cwd?: string): Promise<Result & { raw: Buffer }> {
  return new Promise((resolve, reject) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DOCKER_')));
    const child = spawn(BERTH, args, { env: { ...env, DOCKER_CONFIG: join(work, 'docker-config'), DOCKER_HOST: d.host }, cwd });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const raw = Buffer.concat(out);
      resolve({ code: code ?? -1, stdout: raw.toString('utf8'), stderr, raw });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

async function ok(args: string[], input?: string | Buffer): Promise<string> {
  const r = await berth(args, input);
  if (r.code !== 0) throw new Error(`berth ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

beforeAll(async () => {
  requireDockerCli();
  if (!existsSync(join(projectRoot(), 'dist', 'src', 'commands', 'cp.js'))) throw new Error('bin/berth needs the compiled CLI: run npm run build');
  work = mkdtempSync(join(tmpdir(), 'berth-client-more-'));
  const image = await buildImage({ cmd: ['sh'] });
  d = await startDaemon({ args: ['--bip', `10.226.${o}.1/24`, '--default-address-pool', `base=10.227.${o}.0/24,size=27`] });
  const load = await api(d, 'POST', '/images/load?quiet=1', await dockerArchive([{ image, repoTags: ['busybox:latest'] }]));
  if (load.status !== 200) throw new Error(`loading busybox failed: ${load.status} ${load.body}`);
});

afterAll(async () => {
  try {
    if (d) {
      const left = await api(d, 'GET', '/containers/json?all=1');
      for (const c of left.json ?? []) await api(d, 'DELETE', `/containers/${c.Id}?force=1`);
      await d.stop();
    }
  } finally {
    if (work) rmSync(work, { recursive: true, force: true });
  }
});

test('network create, ls, inspect, connect, disconnect, rm, prune match the docker CLI', async () => {
  const id = (await ok(['network', 'create', '--label', 'k=v', 'cm-net'])).trim();
  expect(id).toMatch(/^[0-9a-f]{64}$/);
  await ok(['network', 'create', '--internal', 'cm-spare']);
  for (const args of [['network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}} {{.Internal}}'], ['network', 'ls', '-q', '--filter', 'label=k=v'], ['network', 'ls']]) {
    expect((await ok(args)).trim()).toBe(await docker(...args));
  }
  const inspect = ['network', 'inspect', '-f', '{{.Name}} {{.Driver}} {{.Labels}}', 'cm-net'];
  expect((await ok(inspect)).trim()).toBe(await docker(...inspect));
  expect(JSON.parse(await ok(['network', 'inspect', 'cm-net']))).toEqual(JSON.parse(await docker('network', 'inspect', 'cm-net')));

  await ok(['run', '-d', '--name', 'cm-box', 'busybox', 'sleep', '300']);
  await ok(['network', 'connect', '--alias', 'boxy', 'cm-net', 'cm-box']);
  expect((await ok(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'cm-box']))).toContain('boxy');
  await ok(['network', 'disconnect', 'cm-net', 'cm-box']);
  await ok(['rm', '-f', 'cm-box']);

  const missing = await berth(['network', 'rm', 'cm-nope']);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/^berth: .*cm-nope.*\n$/);
  expect((await berth(['network', 'rm', '-f', 'cm-nope'])).code).toBe(0);
  expect(await ok(['network', 'rm', 'cm-net'])).toBe('cm-net\n');
  expect(await ok(['network', 'prune'], 'n\n')).toMatch(/Are you sure you want to continue\? \[y\/N\] $/);
  expect(await ok(['network', 'prune', '-f'])).toBe('Deleted Networks:\ncm-spare\n');
  expect((await ok(['network', 'ls', '--format', '{{.Name}}'])).trim()).toBe(await docker('network', 'ls', '--format', '{{.Name}}'));
});

test('volume create, ls, inspect, rm, prune match the docker CLI', async () => {
  expect(await ok(['volume', 'create', '--label', 'a=b', 'cm-vol'])).toBe('cm-vol\n');
  const anon = (await ok(['volume', 'create'])).trim();
  expect(anon).toMatch(/^[0-9a-f]{64}$/);
  for (const args of [['volume', 'ls'], ['volume', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Labels}}'], ['volume', 'ls', '-q', '-f', 'label=a=b'], ['volume', 'inspect', 'cm-vol'], ['volume', 'inspect', '-f', '{{.Mountpoint}}', 'cm-vol']]) {
    expect((await ok(args)).trim()).toBe(await docker(...args));
  }
  const pruned = await ok(['volume', 'prune', '-f']);
  expect(pruned).toMatch(new RegExp(`^Deleted Volumes:\n${anon}\n\nTotal reclaimed space: [\\d.]+k?B\n$`));
  expect(await ok(['volume', 'rm', 'cm-vol'])).toBe('cm-vol\n');
  const gone = await berth(['volume', 'inspect', 'cm-vol']);
  expect(gone.code).toBe(1);
  expect(gone.stderr).toBe('berth: no such volume: cm-vol\n');
});

test('cp both ways and as a tar stream; commit; top; export and import', async () => {
  await ok(['run', '-d', '--name', 'cm-cp', 'busybox', 'sh', '-c', 'mkdir -p /data/sub && echo inside > /data/sub/f && sleep 300']);
  const local = join(work, 'cp');
  mkdirSync(join(local, 'tree', 'deep'), { recursive: true });
  writeFileSync(join(local, 'tree', 'deep', 'x.txt'), 'local text\n');
  writeFileSync(join(local, 'one.txt'), 'one\n');

  await ok(['cp', join(local, 'tree'), 'cm-cp:/data/']);
  await ok(['cp', join(local, 'one.txt'), 'cm-cp:/data/renamed.txt']);
  expect(await ok(['exec', 'cm-cp', 'cat', '/data/tree/deep/x.txt', '/data/renamed.txt'])).toBe('local text\none\n');
  expect(await ok(['exec', 'cm-cp', 'stat', '-c', '%u', '/data/renamed.txt'])).toBe('0\n');

  await ok(['cp', 'cm-cp:/data/sub', join(local, 'back')]);
  expect(readFileSync(join(local, 'back', 'f'), 'utf8')).toBe('inside\n');
  await ok(['cp', 'cm-cp:/data/sub/f', local]);
  expect(readFileSync(join(local, 'f'), 'utf8')).toBe('inside\n');
  // The tar stream is docker's: the docker CLI reads what berth wrote and vice versa.
  const tar = (await berth(['cp', 'cm-cp:/data/tree', '-'])).raw;
  const viaDocker = join(local, 'viadocker');
  mkdirSync(viaDocker);
  await docker('cp', 'cm-cp:/data/tree', viaDocker);
  expect(readFileSync(join(viaDocker, 'tree', 'deep', 'x.txt'), 'utf8')).toBe('local text\n');
  await ok(['cp', '-', 'cm-cp:/tmp'], tar);
  expect(await ok(['exec', 'cm-cp', 'cat', '/tmp/tree/deep/x.txt'])).toBe('local text\n');
  const nothing = await berth(['cp', join(local, 'nope'), 'cm-cp:/tmp']);
  expect(nothing.code).toBe(1);
  expect(nothing.stderr).toMatch(/^berth: .*nope.*\n$/);

  const top = (await ok(['top', 'cm-cp'])).split('\n');
  expect(top[0]).toMatch(/^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
  expect(top.some((l) => /sleep 300$/.test(l))).toBe(true);

  const imageId = (await ok(['commit', '-m', 'with data', '-c', 'ENV COMMITTED=1', 'cm-cp', 'cm-committed:v1'])).trim();
  expect(imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
  expect(await ok(['run', '--rm', 'cm-committed:v1', 'sh', '-c', 'cat /data/renamed.txt; echo $COMMITTED'])).toBe('one\n1\n');
  expect((await ok(['history', '--format', '{{.Comment}}', 'cm-committed:v1'])).split('\n')[0]).toBe('with data');

  const exported = join(work, 'fs.tar');
  await ok(['export', '-o', exported, 'cm-cp']);
  expect(statSync(exported).size).toBeGreaterThan(100_000);
  const imported = await ok(['import', '-c', 'CMD ["sh"]', '-m', 'flat', exported, 'cm-flat:v1']);
  expect(imported.trim()).toMatch(/^sha256:[0-9a-f]{64}$/);
  expect(await ok(['run', '--rm', 'cm-flat:v1', 'cat', '/data/sub/f'])).toBe('inside\n');
  const toTerminal = await berth(['export', 'cm-cp']);
  expect(toTerminal.code).toBe(0); // stdout is a pipe here, not a terminal
  expect(toTerminal.raw.length).toBeGreaterThan(100_000);
  await ok(['rm', '-f', 'cm-cp']);
  await ok(['rmi', 'cm-flat:v1']);
});

test('save | load round trip, and through the docker CLI', async () => {
  const saved = join(work, 'saved.tar');
  await ok(['save', '-o', saved, 'busybox:latest']);
  await ok(['tag', 'busybox:latest', 'cm-copy:v1']);
  const stream = (await berth(['save', 'cm-copy:v1'])).raw;
  await ok(['rmi', 'cm-copy:v1']);
  expect(await ok(['load'], stream)).toBe('Loaded image: cm-copy:v1\n');
  expect(await ok(['load', '-q', '-i', saved])).toBe('');
  await ok(['rmi', 'cm-copy:v1']);
  await docker('load', '-i', saved);
  const ids = ['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}', 'busybox'];
  expect((await ok(ids)).trim()).toBe(await docker(...ids));
});

test('stats --no-stream, system df, events, attach, system prune', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  await ok(['run', '-d', '--name', 'cm-stats', 'busybox', 'sleep', '300']);
  const stats = (await ok(['stats', '--no-stream', 'cm-stats'])).split('\n');
  expect(stats[0]).toMatch(/^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
  expect(stats[1]).toMatch(/^[0-9a-f]{12}\s+cm-stats\s+[\d.]+%\s+[\d.]+[KMG]?i?B \/ [\d.]+[KMGTPE]?i?B\s+[\d.]+%\s+.+ \/ .+\s+.+ \/ .+\s+1$/);
  const json = JSON.parse(await ok(['stats', '--no-stream', '--format', 'json', 'cm-stats']));
  expect(json).toEqual(expect.objectContaining({ Container: 'cm-stats', Name: 'cm-stats', PIDs: '1' }));

  // Streaming: the table again each second until interrupted.
  const child = spawn(BERTH, ['stats', 'cm-stats'], { env: { ...process.env, DOCKER_HOST: d.host } });
  let streamed = '';
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 20_000);
    child.stdout.on('data', (c) => {
      streamed += c;
      if (streamed.split('CONTAINER ID').length > 2) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  child.kill('SIGINT');
  expect(streamed.split('\n').filter((l) => /^[0-9a-f]{12}\s+cm-stats\s/.test(l)).length).toBeGreaterThanOrEqual(2);

  const df = ['system', 'df', '--format', '{{.Type}} {{.TotalCount}} {{.Active}} {{.Size}} {{.Reclaimable}}'];
  expect((await ok(df)).trim()).toBe(await docker(...df));
  expect((await ok(['system', 'df'])).split('\n')[0]).toMatch(/^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/);

  // attach: the output of a running container until it exits, with its status.
  await ok(['run', '-d', '--name', 'cm-attach', 'busybox', 'sh', '-c', 'sleep 1; echo late; exit 6']);
  expect(await berth(['attach', 'cm-attach'])).toEqual({ code: 6, stdout: 'late\n', stderr: '', raw: expect.anything() });
  const stopped = await berth(['attach', 'cm-attach']);
  expect(stopped.code).toBe(1);
  expect(stopped.stderr).toBe('berth: You cannot attach to a stopped container, start it first\n');

  const until = Math.ceil(Date.now() / 1000) + 1;
  const filter = ['--filter', 'container=cm-stats', '--filter', 'event=start', '--since', String(since), '--until', String(until)];
  const fmt = ['--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}'];
  expect((await ok(['events', ...filter, ...fmt])).trim()).toBe(await docker('events', ...filter, ...fmt));
  expect((await ok(['events', ...filter])).trim()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) container start [0-9a-f]{64} \(image=busybox, name=cm-stats\)$/);

  await ok(['rm', '-f', 'cm-stats']);
  const pruned = await ok(['system', 'prune', '-f']);
  expect(pruned).toMatch(/^Deleted Containers:\n[0-9a-f]{64}\n\n(.|\n)*Total reclaimed space: \S+\n$/);
  expect(await ok(['ps', '-aq'])).toBe('');
});

test('search lists a registry\'s repositories (HOST/TERM) like the docker CLI', async () => {
  const registry = await startRegistry();
  try {
    const image = await buildImage({ cmd: ['sh'] });
    await pushImage(registry.url, 'lib/busybox', 'latest', image);
    await pushImage(registry.url, 'tools/busybox-extra', 'latest', image);
    await pushImage(registry.url, 'lib/other', 'latest', image);
    for (const args of [['search', `${registry.host}/busybox`], ['search', '--format', '{{.Name}}|{{.StarCount}}|{{.IsOfficial}}', `${registry.host}/busybox`], ['search', '--limit', '1', `${registry.host}/lib`]]) {
      expect((await ok(args)).trim()).toBe(await docker(...args));
    }
  } finally {
    await registry.stop();
  }
});
