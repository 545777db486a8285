/**
 * Images and distribution as dockerd answers them: docker-archives with null
 * fields, load errors in the stream, commit --change expansion, the distribution
 * endpoint and a missing name in a (local) registry.
 */
import { jest } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { api, type Daemon } from '../../fixtures/daemon.js';
import { buildImage, layerTar, pushImage, type Image } from '../../fixtures/images.js';
import { startRegistry, type Registry } from '../../fixtures/registry.js';
import { daemonWithBusybox, docker, ok } from '../containers/fixture.js';

jest.setTimeout(60_000);

let d: Daemon;
let registry: Registry;
let image: Image;
let tmp: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'compat-images-'));
  d = await daemonWithBusybox();
  registry = await startRegistry();
  image = await buildImage({ format: 'docker' });
  await pushImage(registry.url, 'compat/present', 'v1', image);
});

afterAll(async () => {
  if (d) {
    const ids = (await ok(d, ['ps', '-aq'])).split('\n').filter(Boolean);
    if (ids.length) await docker(d, ['rm', '-f', ...ids]);
    await d.stop();
  }
  await registry?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function archive(entries: { name: string; content: Buffer | string }[]): Promise<Buffer> {
  return layerTar(entries.map((e) => ({ name: e.name, content: e.content })));
}

describe('docker load', () => {
  test('a docker-archive whose manifest has "RepoTags": null and "Layers": null loads', async () => {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Env: ['A=1'] }, rootfs: { type: 'layers', diff_ids: [] }, history: [] }));
    const tar = await archive([
      { name: `${sha(config)}.json`, content: config },
      { name: 'manifest.json', content: JSON.stringify([{ Config: `${sha(config)}.json`, RepoTags: null, Layers: null }]) },
    ]);
    const r = await api(d, 'POST', '/images/load', tar);
    expect(r.status).toBe(200);
    expect(r.lines.filter((l) => l.error)).toEqual([]);
    expect(r.lines.map((l) => l.stream).join('')).toContain(`Loaded image ID: sha256:${sha(config)}`);
    expect((await api(d, 'GET', `/images/sha256:${sha(config)}/json`)).json.RepoTags).toEqual([]);

    const layer = await layerTar([{ name: 'hello.txt', content: 'hi' }]);
    const withLayer = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [`sha256:${sha(layer)}`] } }));
    const tar2 = await archive([
      { name: 'cfg.json', content: withLayer },
      { name: 'l/layer.tar', content: layer },
      { name: 'manifest.json', content: JSON.stringify([{ Config: 'cfg.json', RepoTags: null, Layers: ['l/layer.tar'] }]) },
    ]);
    const file = join(tmp, 'untagged.tar');
    writeFileSync(file, tar2);
    expect(await ok(d, ['load', '-i', file])).toContain(`Loaded image ID: sha256:${sha(withLayer)}`);
  });

  test('a broken archive is an error in the stream, and docker load fails with it', async () => {
    const tar = await archive([{ name: 'manifest.json', content: JSON.stringify([{ Config: 'missing.json', RepoTags: ['x:1'], Layers: [] }]) }]);
    const r = await api(d, 'POST', '/images/load', tar);
    expect(r.lines.at(-1).errorDetail.message).toMatch(/config missing.json is missing from the archive/);
    const file = join(tmp, 'broken.tar');
    writeFileSync(file, tar);
    const cli = await docker(d, ['load', '-i', file]);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/missing.json is missing/);
  });
});

describe('docker commit', () => {
  test('--change ENV expands references as a Dockerfile does', async () => {
    const id = await ok(d, ['create', '-e', 'BASE=/opt', '-e', 'PATH=/usr/bin:/bin', 'busybox']);
    await ok(d, ['commit', '--change', 'ENV PATH=$PATH:/extra', '--change', 'ENV B="$BASE/with space" C=${NOPE:-dflt} D=\'$BASE\'', '--change', 'ENV LEGACY ${BASE}/x', id, 'committed:env']);
    const env: string[] = JSON.parse(await ok(d, ['image', 'inspect', '-f', '{{json .Config.Env}}', 'committed:env']));
    expect(env).toContain('PATH=/usr/bin:/bin:/extra');
    expect(env).toContain('B=/opt/with space');
    expect(env).toContain('C=dflt');
    expect(env).toContain('D=$BASE');
    expect(env).toContain('LEGACY=/opt/x');
  });

  test('commit with pause=true of a container that has just exited succeeds (20 runs)', async () => {
    const failures: string[] = [];
    for (let i = 0; i < 20; i++) {
      const c = await api(d, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['true'] });
      await api(d, 'POST', `/containers/${c.json.Id}/start`);
      const r = await api(d, 'POST', `/commit?container=${c.json.Id}&pause=true`);
      if (r.status !== 201) failures.push(`${r.status} ${r.body.toString()}`);
      await api(d, 'DELETE', `/containers/${c.json.Id}?force=1`);
      if (r.status === 201) await api(d, 'DELETE', `/images/${r.json.Id}`);
    }
    expect(failures).toEqual([]);
  });
});

describe('distribution', () => {
  test('GET /distribution/{name}/json answers the descriptor and platforms from the registry', async () => {
    const r = await api(d, 'GET', `/distribution/${registry.host}/compat/present:v1/json`);
    expect(r.status).toBe(200);
    expect(r.json.Descriptor).toEqual({ mediaType: image.mediaType, digest: image.manifestDigest, size: image.manifest.length });
    expect(r.json.Platforms).toEqual([{ architecture: image.platform.architecture, os: image.platform.os }]);
    const missing = await api(d, 'GET', `/distribution/${registry.host}/compat/present:nope/json`);
    expect(missing.status).toBe(404);
  });

  test('a pull of a name the registry lacks is a 404 with dockerd\'s wording', async () => {
    const r = await api(d, 'POST', `/images/create?fromImage=${registry.host}/compat/absent&tag=latest`);
    expect(r.status).toBe(404);
    expect(r.json.message).toMatch(new RegExp(`^(manifest for ${registry.host}/compat/absent:latest not found: manifest unknown|repository ${registry.host}/compat/absent not found: name unknown): `));
    const cli = await docker(d, ['pull', `${registry.host}/compat/present:nope`]);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain(`manifest for ${registry.host}/compat/present:nope not found: manifest unknown: manifest unknown`);
  });

  test('a registry that never answers is an error within seconds; docker service create goes on past it', async () => {
    // a loopback port that accepts connections and never answers
    const held: Socket[] = [];
    const silent: Server = createServer((sock) => { held.push(sock); });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(silent.address() as { port: number }).port}`;
    try {
      const r = await api(d, 'GET', `/distribution/${host}/busybox:latest/json`);
      expect(r.status).toBeGreaterThanOrEqual(500);
      expect(r.json.message).toMatch(new RegExp(`registry ${host} is unreachable`));
      // The CLI asks for the digest first (a failure is only a warning), then creates the
      // service: not in a swarm here, so the create's answer shows it got that far.
      const cli = await docker(d, ['service', 'create', `${host}/busybox`, 'true'], { timeoutMs: 20_000 });
      expect(cli.stderr).toMatch(/not a swarm manager/);
    } finally {
      for (const s of held) s.destroy();
      silent.close();
    }
  });
});
