/**
 * --registry-mirror: docker.io pulls go to the mirror first (here a local
 * registry, so nothing leaves the machine); --insecure-registry shows in info.
 */
import { api, startDaemon, type Daemon } from '../../fixtures/daemon.js';
import { buildImage, pushImage, type Image } from '../../fixtures/images.js';
import { startRegistry, type Registry } from '../../fixtures/registry.js';

let mirror: Registry;
let daemon: Daemon;
let image: Image;

beforeAll(async () => {
  mirror = await startRegistry();
  image = await buildImage({ format: 'oci' });
  await pushImage(mirror.url, 'library/mirrored', 'latest', image);
  daemon = await startDaemon({ args: ['--registry-mirror', mirror.url, '--insecure-registry', '10.99.0.0/16'] });
});

afterAll(async () => {
  await daemon?.stop();
  await mirror?.stop();
});

test('a Docker Hub reference is pulled from the mirror', async () => {
  const res = await api(daemon, 'POST', '/images/create?fromImage=mirrored&tag=latest');
  expect(res.lines.find((l) => l.error)).toBeUndefined();
  expect(res.lines.map((l) => l.status)).toContain('Status: Downloaded newer image for mirrored:latest');
  const img = (await api(daemon, 'GET', '/images/mirrored/json')).json;
  expect(img.Id).toBe(image.configDigest);
  expect(img.RepoTags).toEqual(['mirrored:latest']);
  expect(img.RepoDigests).toEqual([`mirrored@${image.manifestDigest}`]);
});

test('mirrors and insecure registries show in info', async () => {
  const info = (await api(daemon, 'GET', '/info')).json;
  expect(info.RegistryConfig.Mirrors).toEqual([mirror.url]);
  expect(info.RegistryConfig.InsecureRegistryCIDRs).toContain('10.99.0.0/16');
});
