/**
 * Registry authentication: htpasswd basic auth and a token server, through
 * X-Registry-Auth, POST /auth and the docker CLI's login.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { api, startDaemon, type Daemon } from '../../fixtures/daemon.js';
import { buildImage, pushImage, type Image } from '../../fixtures/images.js';
import { startRegistry, type Registry } from '../../fixtures/registry.js';

const run = promisify(execFile);
import { DOCKER_CLI } from '../../fixtures/docker-cli.js';
const DOCKER = DOCKER_CLI;
const creds = { username: 'berth', password: 's3cret-pass' };

let basic: Registry;
let token: Registry;
let daemon: Daemon;
let image: Image;

const authHeader = (a: object) => ({ 'X-Registry-Auth': Buffer.from(JSON.stringify(a)).toString('base64url') });

async function pull(ref: string, headers: Record<string, string> = {}) {
  return api(daemon, 'POST', `/images/create?fromImage=${encodeURIComponent(ref)}`, undefined, headers);
}

beforeAll(async () => {
  image = await buildImage({ format: 'oci' });
  basic = await startRegistry({ basic: creds });
  await pushImage(basic.url, 'private/busybox', 'latest', image, creds);
  token = await startRegistry({ token: creds });
  daemon = await startDaemon();
});

afterAll(async () => {
  await daemon?.stop();
  await basic?.stop();
  await token?.stop();
});

test('basic auth: refused without credentials, pulled with X-Registry-Auth', async () => {
  const denied = await pull(`${basic.host}/private/busybox`);
  expect(denied.status).toBe(401);
  expect(denied.json.message).toMatch(/authentication required|refused the credentials/);
  const wrong = await pull(`${basic.host}/private/busybox`, authHeader({ username: creds.username, password: 'nope', serveraddress: basic.host }));
  expect(wrong.status).toBe(401);
  const ok = await pull(`${basic.host}/private/busybox`, authHeader({ ...creds, serveraddress: basic.host }));
  expect(ok.status).toBe(200);
  expect(ok.lines.find((l) => l.error)).toBeUndefined();
  expect((await api(daemon, 'GET', `/images/${basic.host}/private/busybox/json`)).json.Id).toBe(image.configDigest);
});

test('POST /auth checks the password and the daemon remembers good credentials', async () => {
  const bad = await api(daemon, 'POST', '/auth', { username: creds.username, password: 'wrong', serveraddress: basic.host });
  expect(bad.status).toBe(401);
  expect(bad.json.message).toMatch(/login to .* failed/);
  const good = await api(daemon, 'POST', '/auth', { ...creds, serveraddress: basic.host });
  expect(good.status).toBe(200);
  expect(good.json.Status).toBe('Login Succeeded');
  await api(daemon, 'DELETE', `/images/${basic.host}/private/busybox`);
  const again = await pull(`${basic.host}/private/busybox`);
  expect(again.status).toBe(200);
  expect(again.lines.find((l) => l.error)).toBeUndefined();
});

test('token auth via docker login, push and pull', async () => {
  const env = { ...process.env, ...daemon.env };
  const login = async (password: string) => {
    const child = execFile(DOCKER, ['login', '-u', creds.username, '--password-stdin', token.host], { env });
    let stderr = '';
    child.stderr!.on('data', (c) => (stderr += c));
    child.stdin!.end(password);
    const code = await new Promise((r) => child.on('exit', r));
    return { code, stderr };
  };
  const bad = await login('wrong');
  expect(bad.code).not.toBe(0);
  expect(bad.stderr).toMatch(/login to .* failed/);
  expect((await login(creds.password)).code).toBe(0);
  // Push through the token front (real uploads), then pull it back.
  await run(DOCKER, ['tag', `${basic.host}/private/busybox`, `${token.host}/team/busybox:1`], { env });
  const pushed = await run(DOCKER, ['push', `${token.host}/team/busybox:1`], { env });
  expect(pushed.stdout).toContain('1: digest: sha256:');
  await run(DOCKER, ['rmi', `${token.host}/team/busybox:1`], { env });
  await run(DOCKER, ['pull', `${token.host}/team/busybox:1`], { env });
  const { stdout } = await run(DOCKER, ['image', 'inspect', '--format', '{{.Id}}', `${token.host}/team/busybox:1`], { env });
  expect(stdout.trim()).toBe(image.configDigest);
  expect(token.tokensIssued()).toBeGreaterThan(0);
});
