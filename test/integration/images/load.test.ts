/**
 * POST /images/load of archives built by the fixtures (docker-archive, OCI
 * layout with an index), a hostile archive, and image prune.
 */
import { api, startDaemon, type Daemon } from '../../fixtures/daemon.js';
import { buildImage, buildIndex, busyboxEntries, dockerArchive, layerTar, ociLayout, type Image } from '../../fixtures/images.js';

let daemon: Daemon;
let docker: Image;
let oci: Image;

beforeAll(async () => {
  docker = await buildImage({ format: 'docker', created: '2024-01-01T00:00:00Z' });
  oci = await buildImage({ format: 'oci', created: '2024-02-01T00:00:00Z', layers: [busyboxEntries([{ name: 'etc/oci', content: 'yes\n' }])] });
  daemon = await startDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

test('a docker-archive loads with its tags', async () => {
  const res = await api(daemon, 'POST', '/images/load', await dockerArchive([{ image: docker, repoTags: ['loaded/docker:v1', 'loaded/docker:v2'] }]));
  expect(res.status).toBe(200);
  expect(res.lines.filter((l) => l.stream).map((l) => l.stream)).toEqual(['Loaded image: loaded/docker:v1\n', 'Loaded image: loaded/docker:v2\n']);
  const img = (await api(daemon, 'GET', '/images/loaded/docker:v2/json')).json;
  expect(img.Id).toBe(docker.configDigest);
  expect(img.RepoTags.sort()).toEqual(['loaded/docker:v1', 'loaded/docker:v2']);
});

test('an OCI layout with a multi-platform index loads the host platform', async () => {
  const arm = await buildImage({ format: 'oci', architecture: 'arm64', layers: [[{ name: 'etc/' }, { name: 'etc/arm', content: 'arm\n' }]] });
  const tar = await ociLayout([{ image: buildIndex([arm, oci]), refName: undefined }]);
  // An index entry without a name: loaded by id.
  const res = await api(daemon, 'POST', '/images/load', tar);
  expect(res.lines.map((l) => l.stream).filter(Boolean)).toEqual([`Loaded image ID: ${oci.configDigest}\n`]);
  const img = (await api(daemon, 'GET', `/images/${oci.configDigest}/json`)).json;
  expect(img.Architecture).toBe('amd64');
  expect(img.RepoTags).toEqual([]);
});

test('an archive with an entry outside it is refused, naming the entry', async () => {
  const evil = await layerTar([{ name: '../../escape', content: 'x' }, { name: 'manifest.json', content: '[]' }]);
  const res = await api(daemon, 'POST', '/images/load', evil);
  expect(res.lines.find((l) => l.error)?.error).toMatch(/entry "\.\.\/\.\.\/escape" would land outside/);
  const junk = await api(daemon, 'POST', '/images/load', Buffer.from('not a tar at all, just text'));
  expect(junk.lines.find((l) => l.error)?.error).toMatch(/load: /);
});

test('images/json filters: dangling, before, since; prune removes dangling images', async () => {
  const since = (await api(daemon, 'GET', `/images/json?filters=${encodeURIComponent(JSON.stringify({ since: ['loaded/docker:v1'] }))}`)).json;
  expect(since.map((i: { Id: string }) => i.Id)).toEqual([oci.configDigest]);
  const before = (await api(daemon, 'GET', `/images/json?filters=${encodeURIComponent(JSON.stringify({ before: [oci.configDigest] }))}`)).json;
  expect(before.map((i: { Id: string }) => i.Id)).toEqual([docker.configDigest]);
  const dangling = (await api(daemon, 'GET', `/images/json?filters=${encodeURIComponent(JSON.stringify({ dangling: ['true'] }))}`)).json;
  expect(dangling.map((i: { Id: string }) => i.Id)).toEqual([oci.configDigest]);
  const bad = await api(daemon, 'GET', `/images/json?filters=${encodeURIComponent(JSON.stringify({ colour: ['red'] }))}`);
  expect(bad.status).toBe(400);
  const pruned = (await api(daemon, 'POST', '/images/prune')).json;
  expect(pruned.ImagesDeleted).toContainEqual({ Deleted: oci.configDigest });
  expect(pruned.SpaceReclaimed).toBeGreaterThan(0);
  const left = (await api(daemon, 'GET', '/images/json')).json;
  expect(left.map((i: { Id: string }) => i.Id)).toEqual([docker.configDigest]);
});
