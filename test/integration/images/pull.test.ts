/**
 * Pull through berthd from Debian's docker-registry: docker v2s2, OCI, zstd and
 * multi-platform images built from busybox-static, with the real docker CLI.
 */
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startDaemon, type Daemon } from '../../fixtures/daemon.js';
import { buildImage, buildIndex, busyboxEntries, pushImage, type Image } from '../../fixtures/images.js';
import { startRegistry, type Registry } from '../../fixtures/registry.js';

const run = promisify(execFile);
import { DOCKER_CLI } from '../../fixtures/docker-cli.js';
const DOCKER = DOCKER_CLI;

let registry: Registry;
let daemon: Daemon;
let v2s2: Image;
let oci: Image;

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run(DOCKER, args, { env: { ...process.env, ...daemon.env } });
  return stdout;
}

async function dockerFails(...args: string[]): Promise<string> {
  try {
    await run(DOCKER, args, { env: { ...process.env, ...daemon.env } });
  } catch (err) {
    return (err as { stderr: string }).stderr;
  }
  throw new Error(`docker ${args.join(' ')} succeeded, expected a failure`);
}

beforeAll(async () => {
  if (!existsSync(DOCKER)) throw new Error(`${DOCKER} is missing: install the docker CLI`);
  registry = await startRegistry();
  v2s2 = await buildImage({ format: 'docker' });
  oci = await buildImage({ format: 'oci', layers: [busyboxEntries(), [{ name: 'etc/motd', content: 'hello from layer 2\n' }, { name: 'etc/.wh.group' }]] });
  await pushImage(registry.url, 'test/busybox', 'v2', v2s2);
  await pushImage(registry.url, 'test/busybox', 'oci', oci);
  const arm = await buildImage({ format: 'oci', architecture: 'arm64', variant: 'v8', layers: [[{ name: 'etc/' }, { name: 'etc/arch', content: 'arm64\n' }]] });
  const amd = await buildImage({ format: 'oci', layers: [busyboxEntries([{ name: 'etc/arch', content: 'amd64\n' }])] });
  await pushImage(registry.url, 'test/multi', 'latest', buildIndex([arm, amd], 'oci'));
  const zstd = await buildImage({ format: 'oci', compression: 'zstd', layers: [busyboxEntries([{ name: 'etc/zstd', content: 'zstd\n' }])] });
  await pushImage(registry.url, 'test/zstd', 'latest', zstd);
  daemon = await startDaemon();
});

afterAll(async () => {
  await daemon?.stop();
  await registry?.stop();
});

test('docker pull of a v2 schema 2 image, then images, inspect and history', async () => {
  const ref = `${registry.host}/test/busybox:v2`;
  const out = await docker('pull', ref);
  expect(out).toContain(`Digest: ${v2s2.manifestDigest}`);
  expect(out).toContain(`Status: Downloaded newer image for ${ref}`);
  const again = await docker('pull', ref);
  expect(again).toContain(`Status: Image is up to date for ${ref}`);

  const list = await docker('images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}');
  expect(list).toContain(`${registry.host}/test/busybox:v2 ${v2s2.configDigest.slice(7, 19)}`);

  const [info] = JSON.parse(await docker('image', 'inspect', ref));
  expect(info.Id).toBe(v2s2.configDigest);
  expect(info.RepoDigests).toEqual([`${registry.host}/test/busybox@${v2s2.manifestDigest}`]);
  expect(info.RootFS.Layers).toEqual(v2s2.layers.map((l) => l.diffId));
  expect(info.Config.Cmd).toEqual(['sh']);
  expect(info.Os).toBe('linux');
  // The layer is unpacked with its symlinks and modes.
  const upper = info.GraphDriver.Data.UpperDir as string;
  expect(lstatSync(join(upper, 'bin/busybox')).mode & 0o777).toBe(0o755);
  expect(readlinkSync(join(upper, 'bin/sh'))).toBe('busybox');
  expect(lstatSync(join(upper, 'tmp')).mode & 0o7777).toBe(0o1777);

  const hist = await docker('history', '--no-trunc', '--format', '{{.CreatedBy}}', ref);
  expect(hist.trim()).toBe('berth test layer 0');
});

test('OCI image with two layers and a whiteout', async () => {
  const ref = `${registry.host}/test/busybox:oci`;
  await docker('pull', ref);
  const [info] = JSON.parse(await docker('image', 'inspect', ref));
  expect(info.Id).toBe(oci.configDigest);
  const upper = info.GraphDriver.Data.UpperDir as string;
  expect(readFileSync(join(upper, 'etc/motd'), 'utf8')).toBe('hello from layer 2\n');
  const wh = lstatSync(join(upper, 'etc/group'));
  expect(wh.isCharacterDevice() && wh.rdev === 0).toBe(true);
  // The bottom layer is shared with the v2s2 image (same diff id): unpacked once.
  expect(info.GraphDriver.Data.LowerDir.split(':')).toHaveLength(1);
});

test('multi-platform index: linux/amd64 chosen by default, arm64 on request', async () => {
  await docker('pull', `${registry.host}/test/multi`);
  const [amd] = JSON.parse(await docker('image', 'inspect', `${registry.host}/test/multi`));
  expect(amd.Architecture).toBe('amd64');
  expect(readFileSync(join(amd.GraphDriver.Data.UpperDir, 'etc/arch'), 'utf8')).toBe('amd64\n');
  await docker('pull', '--platform', 'linux/arm64', `${registry.host}/test/multi`);
  const [arm] = JSON.parse(await docker('image', 'inspect', `${registry.host}/test/multi`));
  expect(arm.Architecture).toBe('arm64');
  expect(readFileSync(join(arm.GraphDriver.Data.UpperDir, 'etc/arch'), 'utf8')).toBe('arm64\n');
  const missing = await dockerFails('pull', '--platform', 'linux/s390x', `${registry.host}/test/multi`);
  expect(missing).toContain('no matching manifest for linux/s390x');
});

test('zstd layers', async () => {
  await docker('pull', `${registry.host}/test/zstd`);
  const [info] = JSON.parse(await docker('image', 'inspect', `${registry.host}/test/zstd`));
  expect(readFileSync(join(info.GraphDriver.Data.UpperDir, 'etc/zstd'), 'utf8')).toBe('zstd\n');
});

test('unknown repository and missing tag are clear errors', async () => {
  expect(await dockerFails('pull', `${registry.host}/test/nothere`)).toMatch(/not found/);
  expect(await dockerFails('pull', `${registry.host}/test/busybox:nope`)).toContain('manifest for');
  expect(await dockerFails('pull', 'UPPER/Case')).toMatch(/invalid reference format|must be lowercase/);
});

test('two pulls of the same image at once both succeed, unpacking it once', async () => {
  const ref = `${registry.host}/test/zstd`;
  await docker('rmi', ref);
  const [a, b] = await Promise.all([docker('pull', ref), docker('pull', ref)]);
  for (const out of [a, b]) expect(out).toMatch(/Status: (Downloaded newer image|Image is up to date) for/);
  const [info] = JSON.parse(await docker('image', 'inspect', ref));
  expect(readFileSync(join(info.GraphDriver.Data.UpperDir, 'etc/zstd'), 'utf8')).toBe('zstd\n');
});
