/**
 * Volumes with the real docker CLI against berthd: data kept across containers and
 * engine restarts, copy-up with ownership, --volumes-from, --mount, tmpfs-backed
 * volumes, the volume commands, rm -v, and hostile names.
 */
import { rmSync } from 'node:fs';
import { startDaemon, type Daemon } from '../fixtures/daemon.js';
import { buildImage, busyboxEntries, pushImage } from '../fixtures/images.js';
import { startRegistry, type Registry } from '../fixtures/registry.js';
import { dockerCli, requireDockerCli } from '../fixtures/docker-cli.js';

let registry: Registry;
let daemon: Daemon;
let IMG: string;

const { docker, dockerFails } = dockerCli(() => daemon.env);

beforeAll(async () => {
  requireDockerCli();
  registry = await startRegistry();
  const image = await buildImage({
    layers: [busyboxEntries([
      { name: 'srv/', uid: 1234, gid: 2345, mode: 0o750 },
      { name: 'srv/data.txt', content: 'from the image\n', uid: 1234, gid: 2345 },
    ])],
  });
  await pushImage(registry.url, 'lib/busybox', 'latest', image);
  IMG = `${registry.host}/lib/busybox`;
  daemon = await startDaemon({ keep: true });
  await docker('pull', '-q', IMG);
});

afterAll(async () => {
  const left = daemon ? await docker('ps', '-aq').catch(() => '') : '';
  if (left) await docker('rm', '-f', ...left.split('\n')).catch(() => undefined);
  const base = daemon?.dataRoot.replace(/\/data$/, '');
  await daemon?.stop();
  await registry?.stop();
  if (base) rmSync(base, { recursive: true, force: true });
});

test('write in one container, read in the next; :ro is read-only; the data survives an engine restart', async () => {
  expect(await docker('volume', 'create', '--label', 'team=blue', 'notes')).toBe('notes');
  await docker('run', '--rm', '-v', 'notes:/notes', IMG, 'sh', '-c', 'echo kept > /notes/n.txt');
  expect(await docker('run', '--rm', '-v', 'notes:/notes:ro', IMG, 'cat', '/notes/n.txt')).toBe('kept');
  expect(await dockerFails('run', '--rm', '-v', 'notes:/notes:ro', IMG, 'sh', '-c', 'echo x > /notes/other')).toMatch(/Read-only file system/);
  await docker('run', '--rm', '--mount', 'type=volume,src=notes,dst=/m', IMG, 'sh', '-c', 'test -f /m/n.txt');

  await daemon.stop();
  daemon = await startDaemon({ dataRoot: daemon.dataRoot, execRoot: daemon.execRoot, keep: true });
  expect(await docker('run', '--rm', '-v', 'notes:/notes', IMG, 'cat', '/notes/n.txt')).toBe('kept');
});

test('a new named volume is filled from the image with owners and modes kept; nocopy skips it', async () => {
  expect(await docker('run', '--rm', '-v', 'filled:/srv', IMG, 'sh', '-c', 'cat /srv/data.txt; stat -c "%u:%g %a" /srv /srv/data.txt'))
    .toBe('from the image\n1234:2345 750\n1234:2345 644');
  expect(await docker('run', '--rm', '-v', 'empty:/srv:nocopy', IMG, 'ls', '-A', '/srv')).toBe('');
});

test('anonymous volumes (-v /path) get copy-up, --volumes-from shares them, rm -v removes them', async () => {
  await docker('create', '--name', 'holder', '-v', '/srv', IMG, 'true');
  await docker('start', '-a', 'holder');
  const mounts = JSON.parse(await docker('inspect', '-f', '{{json .Mounts}}', 'holder'));
  const anon = mounts.find((m: any) => m.Destination === '/srv');
  expect(anon).toMatchObject({ Type: 'volume', Driver: 'local' });
  expect(anon.Name).toMatch(/^[0-9a-f]{64}$/);
  expect(await docker('run', '--rm', '--volumes-from', 'holder', IMG, 'cat', '/srv/data.txt')).toBe('from the image');
  await docker('run', '--rm', '--volumes-from', 'holder', IMG, 'sh', '-c', 'echo shared > /srv/s.txt');
  expect(await docker('run', '--rm', '--volumes-from', 'holder:ro', IMG, 'cat', '/srv/s.txt')).toBe('shared');

  expect(await dockerFails('volume', 'rm', anon.Name)).toMatch(/volume is in use/);
  await docker('rm', '-v', 'holder');
  expect(await docker('volume', 'ls', '-q')).not.toContain(anon.Name);

  await docker('run', '--name', 'keeper', '-v', '/srv', IMG, 'true');
  const kept = JSON.parse(await docker('inspect', '-f', '{{json .Mounts}}', 'keeper'))[0].Name;
  await docker('rm', 'keeper'); // without -v: the anonymous volume stays, dangling
  expect(await docker('volume', 'ls', '-q', '--filter', 'dangling=true')).toContain(kept);
});

test('tmpfs-backed and bind-backed volumes', async () => {
  await docker('volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=8m', 'scratch');
  expect(await docker('run', '--rm', '-v', 'scratch:/s', IMG, 'sh', '-c', 'grep " /s " /proc/mounts')).toMatch(/^tmpfs \/s tmpfs /);
  expect(await dockerFails('volume', 'create', '--opt', 'type=tmpfs', 'broken')).toMatch(/needs a device/);
});

test('volume ls, inspect, rm, prune and hostile names', async () => {
  const info = JSON.parse(await docker('volume', 'inspect', 'notes'))[0];
  expect(info).toMatchObject({ Name: 'notes', Driver: 'local', Scope: 'local', Labels: { team: 'blue' } });
  expect(info.Mountpoint).toBe(`${daemon.dataRoot}/volumes/notes/_data`);
  expect(await docker('volume', 'ls', '-q', '--filter', 'label=team=blue')).toBe('notes');
  expect(await docker('volume', 'ls', '--format', '{{.Name}}', '--filter', 'name=fill')).toBe('filled');

  for (const bad of ['a/b', '..', '../../etc']) expect(await dockerFails('volume', 'create', bad)).toMatch(/invalid volume name|includes invalid characters/);
  expect(await dockerFails('volume', 'inspect', 'nosuch')).toMatch(/no such volume/);

  const out = await docker('volume', 'prune', '-f');
  expect(out).not.toContain('notes'); // named volumes stay unless --all
  expect(await docker('volume', 'ls', '-q', '--filter', 'dangling=true', '--filter', 'label=com.docker.volume.anonymous')).toBe('');
  await docker('volume', 'prune', '-af');
  expect(await docker('volume', 'ls', '-q')).toBe('');
  expect(await dockerFails('volume', 'rm', 'notes')).toMatch(/no such volume/);
  await docker('volume', 'rm', '-f', 'notes'); // force: absent is fine
});
