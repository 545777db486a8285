/**
 * The API itself as dockerd answers it: versions, plugins, bodies, error wording,
 * POST /auth against the named registry, no host paths in errors.
 */
import { jest } from '@jest/globals';
import Docker from 'dockerode';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { api, type Daemon } from '../../fixtures/daemon.js';
import { startRegistry, type Registry } from '../../fixtures/registry.js';
import { daemonWithBusybox, docker, ok } from '../containers/fixture.js';

jest.setTimeout(60_000);

let d: Daemon;
let client: Docker;

beforeAll(async () => {
  d = await daemonWithBusybox();
  client = new Docker({ socketPath: d.socket });
});

afterAll(async () => {
  if (d) {
    const ids = (await ok(d, ['ps', '-aq'])).split('\n').filter(Boolean);
    if (ids.length) await docker(d, ['rm', '-f', ...ids]);
    await d.stop();
  }
});

describe('API versions', () => {
  test('versions down to 1.12 are accepted, as /version announces; older ones are refused', async () => {
    const v = (await api(d, 'GET', '/version')).json;
    expect(v.MinAPIVersion).toBe('1.12');
    expect((await api(d, 'GET', '/v1.12/containers/json')).status).toBe(200);
    expect((await api(d, 'GET', '/v1.18/images/json')).status).toBe(200);
    const old = await api(d, 'GET', '/v1.11/version');
    expect(old.status).toBe(400);
    expect(old.json.message).toMatch(/client version 1.11 is too old. Minimum supported API version is 1.12/);
    // Before 1.42 a stream said raw even when framed: version-dependent fields follow the version.
    const versioned = new Docker({ socketPath: d.socket, version: 'v1.24' });
    expect((await versioned.listContainers({ all: true })).length).toBeGreaterThanOrEqual(0);
  });
});

describe('plugins', () => {
  test('GET /plugins lists none; a named plugin is not found, for upgrade too', async () => {
    const list = await api(d, 'GET', '/plugins');
    expect(list.status).toBe(200);
    expect(list.json).toEqual([]);
    expect(await client.listPlugins()).toEqual([]);
    const one = await api(d, 'GET', '/plugins/vieux/sshfs:latest/json');
    expect(one.status).toBe(404);
    expect(one.json.message).toBe('plugin "vieux/sshfs:latest" not found');
    expect((await api(d, 'POST', '/plugins/foo/enable')).status).toBe(404);
    expect((await api(d, 'DELETE', '/plugins/foo')).status).toBe(404);
    const upgrade = await api(d, 'POST', '/plugins/foo/upgrade?remote=foo');
    expect(upgrade.status).toBe(404);
    expect(upgrade.json.message).toBe('plugin "foo" not found');
    // create takes a tar (test/e2e/compat/plugins.test.ts); none is a 400 naming what is missing
    const empty = await api(d, 'POST', '/plugins/create?name=foo');
    expect(empty.status).toBe(400);
    expect(empty.json.message).toMatch(/config not found/);
    const cli = await docker(d, ['plugin', 'ls']);
    expect(cli.code).toBe(0);
  });
});

describe('request bodies', () => {
  test('a JSON endpoint refuses another Content-Type with dockerd\'s message', async () => {
    const r = await api(d, 'POST', '/containers/create', Buffer.from('{"Image":"busybox"}'), { 'Content-Type': 'text/plain' });
    expect(r.status).toBe(400);
    expect(r.json.message).toBe("unsupported Content-Type header (text/plain): must be 'application/json'");
    const charset = await api(d, 'POST', '/containers/create', Buffer.from('{"Image":"busybox"}'), { 'Content-Type': 'application/json; charset=utf-8' });
    expect(charset.status).toBe(201);
    // No body, no Content-Type: fine.
    expect((await api(d, 'POST', `/containers/${charset.json.Id}/stop`)).status).toBe(304);
  });

  test('a body over the limit is refused with 413 before it is parsed', async () => {
    // Only the head is sent: the answer comes without the body being read.
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = connect(d.socket);
      let text = '';
      sock.on('data', (c) => (text += c));
      sock.on('error', reject);
      sock.on('close', () => resolve(text));
      sock.write(`POST /containers/create HTTP/1.1\r\nHost: berthd\r\nContent-Type: application/json\r\nContent-Length: ${11 << 20}\r\n\r\n{"Image":`);
    });
    expect(answer).toMatch(/^HTTP\/1.1 413 /);
    expect(answer).toMatch(/request body is larger than 10485760 bytes.*--max-request-body/);
    expect((await api(d, 'GET', '/_ping')).status).toBe(200);
  });

  test('invalid JSON is a 400 naming it', async () => {
    const r = await api(d, 'POST', '/containers/create', Buffer.from('{"Image":'), { 'Content-Type': 'application/json' });
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(/^invalid JSON/);
  });
});

describe('error wording clients match on', () => {
  test('not found, conflict and invalid parameter as dockerd says them', async () => {
    const img = await api(d, 'POST', '/containers/create', { Image: 'nosuchimage' });
    expect(img.status).toBe(404);
    expect(img.json.message).toBe('No such image: nosuchimage:latest');
    expect((await api(d, 'GET', '/images/nosuch/json')).json.message).toBe('No such image: nosuch:latest');
    expect((await api(d, 'GET', '/containers/nosuch/json')).json.message).toBe('No such container: nosuch');
    expect((await api(d, 'GET', '/networks/nosuch')).json.message).toBe('network nosuch not found');
    expect((await api(d, 'GET', '/volumes/nosuch')).json.message).toBe('get nosuch: no such volume');

    await ok(d, ['create', '--name', 'holder', 'busybox']);
    const dup = await api(d, 'POST', '/containers/create?name=holder', { Image: 'busybox' });
    expect(dup.status).toBe(409);
    expect(dup.json.message).toMatch(/^Conflict. The container name "\/holder" is already in use by container "[0-9a-f]{64}". You have to remove \(or rename\) that container to be able to reuse that name.$/);
    const rmi = await api(d, 'DELETE', '/images/busybox');
    expect(rmi.status).toBe(409);
    expect(rmi.json.message).toMatch(/^conflict: unable to remove repository reference "busybox" \(must force\) - container [0-9a-f]{12} is using its referenced image [0-9a-f]{12}$/);

    const predefined = await api(d, 'POST', '/networks/create', { Name: 'bridge' });
    expect(predefined.status).toBe(403);
    expect(predefined.json.message).toMatch(/^operation is not permitted on predefined bridge network/);
    const spaced = await api(d, 'POST', '/networks/create', { Name: 'with spaces' });
    expect(spaced.status).toBe(201);
    expect((await api(d, 'GET', '/networks/with%20spaces')).json.Name).toBe('with spaces');
    expect((await api(d, 'DELETE', '/networks/with%20spaces')).status).toBe(204);
  });

  test('errors carry no stack traces and no engine directories', async () => {
    const id = await ok(d, ['run', '-d', 'busybox', 'sleep', '60']);
    // An engine file gone behind its back: the 500 must not show where it lived.
    rmSync(join(d.execRoot, 'bundles', id, 'config.json'));
    const r = await api(d, 'POST', `/containers/${id}/exec`, { Cmd: ['true'] }).then((c) => api(d, 'POST', `/exec/${c.json.Id}/start`, { Detach: true }));
    expect(r.status).toBe(500);
    expect(r.json.message).toMatch(/ENOENT/);
    expect(r.status).toBe(500);
    expect(r.json.message).toMatch(/ENOENT/);
    const cp = await docker(d, ['exec', id, 'true']);
    expect(cp.code).toBe(126);
    expect(cp.stdout + cp.stderr).toMatch(/ENOENT/);
    for (const text of [JSON.stringify(r.json), cp.stdout + cp.stderr]) {
      expect(text).not.toContain(d.dataRoot);
      expect(text).not.toContain(d.execRoot);
      expect(text).not.toMatch(/\n\s+at |\.js:\d+/);
    }
  });
});

describe('POST /auth', () => {
  let registry: Registry;
  const creds = { username: 'alice', password: 'right-pass' };
  beforeAll(async () => {
    registry = await startRegistry({ basic: creds });
  });
  afterAll(async () => {
    await registry?.stop();
  });

  test('a bogus password never logs in, even after a good login of the same user', async () => {
    const bogus = await api(d, 'POST', '/auth', { username: 'alice', password: 'bogus', serveraddress: registry.host });
    expect(bogus.status).toBe(401);
    const good = await api(d, 'POST', '/auth', { ...creds, serveraddress: registry.host });
    expect(good.status).toBe(200);
    expect(good.json.Status).toBe('Login Succeeded');
    const again = await api(d, 'POST', '/auth', { Username: 'alice', Password: 'bogus', ServerAddress: registry.host });
    expect(again.status).toBe(401);
    expect(again.json.Status).toBeUndefined();
    const cli = await docker(d, ['login', '-u', 'alice', '--password-stdin', registry.host], { input: 'still-bogus' });
    expect(cli.code).not.toBe(0);
    expect(cli.stdout).not.toMatch(/Login Succeeded/);
  });
});
