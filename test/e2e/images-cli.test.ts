/**
 * The real docker CLI against berthd, over a unix socket and over TCP with
 * mutual TLS: pull, images, inspect, tag, rmi, push, save | load, history,
 * search, version, info; clients without a certificate or with a foreign one
 * are refused.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startDaemon, type Daemon } from '../fixtures/daemon.js';
import { buildImage, busyboxEntries, layerTar, pushImage, type Image } from '../fixtures/images.js';
import { writeFileSync } from 'node:fs';
import { startRegistry, type Registry } from '../fixtures/registry.js';
import { makeTlsFiles, type TlsFiles } from '../fixtures/tls.js';

const run = promisify(execFile);
import { DOCKER_CLI } from '../fixtures/docker-cli.js';
const DOCKER = DOCKER_CLI;

let registry: Registry;
let daemon: Daemon;
let tls: TlsFiles;
let work: string;
let image: Image;

function dockerEnv(extra: Record<string, string> = {}) {
  return { ...process.env, ...daemon.env, ...extra };
}

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run(DOCKER, args, { env: dockerEnv(), maxBuffer: 1 << 26 });
  return stdout;
}

async function dockerFails(env: Record<string, string>, ...args: string[]): Promise<string> {
  try {
    await run(DOCKER, args, { env: { ...dockerEnv(), ...env } });
  } catch (err) {
    return (err as { stderr: string }).stderr;
  }
  throw new Error(`docker ${args.join(' ')} succeeded, expected a failure`);
}

beforeAll(async () => {
  if (!existsSync(DOCKER)) throw new Error(`${DOCKER} is missing: install the docker CLI`);
  work = mkdtempSync(join(tmpdir(), 'berth-cli-'));
  tls = makeTlsFiles(join(work, 'tls'));
  registry = await startRegistry();
  image = await buildImage({ format: 'docker', labels: { 'org.berth.test': 'cli' } });
  await pushImage(registry.url, 'lib/busybox', 'latest', image);
  daemon = await startDaemon({ tcp: { tls: { ca: tls.ca, cert: tls.serverCert, key: tls.serverKey } } });
});

afterAll(async () => {
  await daemon?.stop();
  await registry?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('version and info over the unix socket', async () => {
  const v = JSON.parse(await docker('version', '--format', '{{json .Server}}'));
  expect(v.ApiVersion).toBe('1.47');
  expect(v.MinAPIVersion).toBe('1.12');
  const info = JSON.parse(await docker('info', '--format', '{{json .}}'));
  expect(info.Driver).toBe('overlay2');
  expect(info.DockerRootDir).toBe(daemon.dataRoot);
  expect(info.NCPU).toBeGreaterThan(0);
  expect(info.MemTotal).toBeGreaterThan(0);
  expect(['1', '2']).toContain(info.CgroupVersion);
});

test('pull, tag, images, inspect, history, push to a new repository, rmi', async () => {
  const src = `${registry.host}/lib/busybox`;
  await docker('pull', src);
  await docker('tag', src, `${registry.host}/copy/busybox:v1`);
  await docker('tag', src, 'local/busybox:mine');
  const list = await docker('images', '--format', '{{.Repository}}:{{.Tag}}');
  expect(list.split('\n').sort()).toEqual(expect.arrayContaining([`${src}:latest`, `${registry.host}/copy/busybox:v1`, 'local/busybox:mine']));
  const filtered = await docker('images', '--filter', 'reference=local/*', '--format', '{{.Repository}}:{{.Tag}}');
  expect(filtered.trim()).toBe('local/busybox:mine');
  const labelled = await docker('images', '-q', '--filter', 'label=org.berth.test=cli');
  expect(new Set(labelled.trim().split('\n'))).toEqual(new Set([image.configDigest.slice(7, 19)]));

  const pushed = await docker('push', `${registry.host}/copy/busybox:v1`);
  expect(pushed).toContain('v1: digest: sha256:');
  // The registry now serves the same image under the new name.
  const cat = await (await fetch(`${registry.url}/v2/_catalog`)).json();
  expect(cat.repositories).toContain('copy/busybox');

  // Removing one tag of several only untags.
  const untag = await docker('rmi', 'local/busybox:mine');
  expect(untag).toContain('Untagged: local/busybox:mine');
  const conflict = await dockerFails({}, 'rmi', image.configDigest.slice(7, 19));
  expect(conflict).toContain('must be forced');
  const gone = await docker('rmi', '-f', image.configDigest.slice(7, 19));
  expect(gone).toContain(`Deleted: ${image.configDigest}`);
  expect((await docker('images', '-q')).trim()).toBe('');

  // The pushed copy pulls back intact.
  await docker('pull', `${registry.host}/copy/busybox:v1`);
  const [info] = JSON.parse(await docker('image', 'inspect', `${registry.host}/copy/busybox:v1`));
  expect(info.Id).toBe(image.configDigest);
  const hist = await docker('history', '--format', '{{.CreatedBy}}|{{.Size}}', `${registry.host}/copy/busybox:v1`);
  expect(hist.trim()).toMatch(/^berth test layer 0\|[1-9]/);
});

test('save | load round trip', async () => {
  const ref = `${registry.host}/copy/busybox:v1`;
  const tarPath = join(work, 'saved.tar');
  await docker('save', '-o', tarPath, ref);
  await docker('rmi', ref);
  expect((await docker('images', '-q')).trim()).toBe('');
  const out = await docker('load', '-i', tarPath);
  expect(out).toContain(`Loaded image: ${ref}`);
  const [info] = JSON.parse(await docker('image', 'inspect', ref));
  expect(info.Id).toBe(image.configDigest);
  expect(info.RootFS.Layers).toEqual(image.layers.map((l) => l.diffId));
});

test('search lists the private registry catalog', async () => {
  const out = await docker('search', '--format', '{{.Name}}', `${registry.host}/busybox`);
  expect(out.split('\n')).toEqual(expect.arrayContaining([`${registry.host}/lib/busybox`, `${registry.host}/copy/busybox`]));
});

test('TCP with mTLS: a client certificate from the CA works, none or a foreign one is refused', async () => {
  const tcpEnv = { DOCKER_HOST: daemon.tcp!, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: tls.clientDir };
  const { stdout } = await run(DOCKER, ['version', '--format', '{{.Server.APIVersion}}'], { env: dockerEnv(tcpEnv) });
  expect(stdout.trim()).toBe('1.47');
  const { stdout: imgs } = await run(DOCKER, ['images', '--format', '{{.Repository}}'], { env: dockerEnv(tcpEnv) });
  expect(imgs).toContain(`${registry.host}/copy/busybox`);

  const foreign = await dockerFails({ ...tcpEnv, DOCKER_CERT_PATH: tls.foreignDir }, 'version');
  expect(foreign).toMatch(/certificate|tls|remote error/i);

  // No client certificate at all: the handshake fails.
  const err = await new Promise<Error | undefined>((resolve) => {
    const port = Number(daemon.tcp!.split(':').pop());
    const req = request({ host: '127.0.0.1', port, path: '/_ping', ca: readFileSync(tls.ca) }, (res) => {
      res.resume();
      resolve(undefined);
    });
    req.on('error', (e) => resolve(e));
    req.end();
  });
  expect(err).toBeDefined();
  expect(String(err)).toMatch(/certificate|alert|socket hang up|ECONNRESET/i);
});

test('rmi of an image a container uses is a 409; forced, it only untags; after rm it goes', async () => {
  const ref = `${registry.host}/lib/busybox`;
  await docker('pull', ref);
  // Only one tag left, so rmi by name would delete the image.
  await docker('rmi', `${registry.host}/copy/busybox:v1`);
  const cid = (await docker('create', ref, 'true')).trim();
  const refused = await dockerFails({}, 'rmi', ref);
  expect(refused).toMatch(new RegExp(`unable to remove repository reference .* \\(must force\\) - container ${cid.slice(0, 12)} is using its referenced image`));
  const forced = await docker('rmi', '-f', ref);
  expect(forced).toContain(`Untagged: ${ref}:latest`);
  expect(forced).not.toContain('Deleted:');
  // The container still resolves its image by id.
  expect((await docker('image', 'inspect', '--format', '{{.Id}}', image.configDigest)).trim()).toBe(image.configDigest);
  await docker('rm', cid);
  const gone = await docker('rmi', image.configDigest);
  expect(gone).toContain(`Deleted: ${image.configDigest}`);
});

test('import a root filesystem, push it (real chunked upload, gzipped layer), pull it back', async () => {
  const fsTar = join(work, 'rootfs.tar');
  writeFileSync(fsTar, await layerTar(busyboxEntries([{ name: 'etc/imported', content: 'yes\n' }])));
  const ref = `${registry.host}/imported/fs:1`;
  const id = (await docker('import', '--change', 'CMD ["sh"]', '--message', 'from a tar', fsTar, ref)).trim();
  expect(id).toMatch(/^sha256:[a-f0-9]{64}$/);
  const pushed = await docker('push', ref);
  expect(pushed).toContain('Pushed');
  const manifest = await (await fetch(`${registry.url}/v2/imported/fs/manifests/1`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } })).json();
  expect(manifest.layers[0].mediaType).toBe('application/vnd.docker.image.rootfs.diff.tar.gzip');
  await docker('rmi', ref);
  await docker('pull', ref);
  const [info] = JSON.parse(await docker('image', 'inspect', ref));
  expect(info.Id).toBe(id);
  expect(info.Config.Cmd).toEqual(['sh']);
  expect(info.Comment).toBe('from a tar');
});
