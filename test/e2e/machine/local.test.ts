/**
 * `machine create -d local` on this computer, isolated under its own prefix
 * (install dir, certs, data-root, exec-root) and a random engine port.
 */
import { jest } from '@jest/globals';
import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { ensureBundle } from '../../../src/machine/bundle/build.js';
import { join } from 'node:path';
import { berth, requireDockerCli, sh, startRegistry, tempDir, removeTempDirs } from './helpers.js';

jest.setTimeout(120_000);

const store = tempDir('berth-local-store-');
const prefix = join('/var/tmp', `berth-local-${process.pid}-${Date.now()}`);
const port = 21000 + Math.floor(Math.random() * 20000);
const env: NodeJS.ProcessEnv = { BERTH_STORAGE_PATH: store, DOCKER_CONFIG: tempDir('berth-local-docker-'), DOCKER_HOST: '', DOCKER_TLS_VERIFY: '', DOCKER_CERT_PATH: '' };
const BERTH = join(process.cwd(), 'bin', 'berth');
let reg: Awaited<ReturnType<typeof startRegistry>>;

const enginePid = () => Number(readFileSync(join(prefix, 'run', 'berth', 'berthd.pid'), 'utf8'));
// Alive and not a zombie: here PID 1 reaps orphans late, and a killed engine lingers as one.
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

beforeAll(async () => {
  requireDockerCli();
  reg = await startRegistry('127.0.0.1');
  // One bundle for the whole file, whatever happens to the sources meanwhile.
  const pinned = join(tempDir('berth-local-bundle-'), 'bundle.tgz');
  copyFileSync((await ensureBundle()).path, pinned);
  Object.assign(env, { BERTH_BUNDLE: pinned });
});
afterAll(() => {
  berth(['machine', 'rm', '-f', 'loc'], env);
  reg?.stop();
  rmSync(prefix, { recursive: true, force: true });
  removeTempDirs();
});

test('create -d local (the default driver) installs and starts an engine on this host', () => {
  const r = berth(['machine', 'create', '--local-prefix', prefix, '--local-engine-port', String(port), '--engine-insecure-registry', reg.host, 'loc'], env);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(existsSync(join(prefix, 'opt', 'berth', 'bin', 'berthd'))).toBe(true);
  expect(existsSync(join(prefix, 'opt', 'berth', 'bin', 'berth-proxy'))).toBe(true);
  expect(alive(enginePid())).toBe(true);
  expect(berth(['machine', 'ls', '--format', '{{.Name}} {{.DriverName}} {{.State}} {{.URL}}'], env).stdout).toBe(`loc local Running tcp://127.0.0.1:${port}\n`);
});

test('a second local machine never takes over the first one\'s engine, certificates or port', () => {
  const other = { ...env, BERTH_STORAGE_PATH: tempDir('berth-local-store2-') };
  const samePrefix = berth(['machine', 'create', '--local-prefix', prefix, '--local-engine-port', String(port + 1), 'loc2'], other);
  expect(samePrefix.code).toBe(2);
  expect(samePrefix.stderr).toContain(`Error: --local-prefix ${prefix} holds the engine of machine "loc" (store ${store}, port ${port}): a second local machine needs its own\n`);
  const samePort = berth(['machine', 'create', '--local-prefix', `${prefix}-2`, '--local-engine-port', String(port), 'loc2'], other);
  expect(samePort.code).toBe(2);
  expect(samePort.stderr).toContain(`Error: port ${port} on 127.0.0.1 is already in use`);
  expect(existsSync(`${prefix}-2`)).toBe(false);
  expect(berth(['machine', 'ls', '-q'], other).stdout).toBe('');
  expect(berth(['machine', 'status', 'loc'], env).stdout).toBe('Running\n');
});

test('env + the docker CLI over mTLS; a client without certificates is refused', () => {
  const r = sh(`set -e; eval $("$BERTH" machine env loc); docker pull -q ${reg.image}; docker info --format '{{.Name}}' >/dev/null; echo ok`, { ...env, BERTH });
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe(`${reg.image}\nok\n`);
  const bare = sh(`DOCKER_HOST=tcp://127.0.0.1:${port} DOCKER_TLS_VERIFY= DOCKER_CERT_PATH= docker version --format '{{.Server.Version}}'`, env);
  expect(bare.code).not.toBe(0);
  const noClientCert = sh(`curl -sS --cacert ${store}/machines/loc/ca.pem https://127.0.0.1:${port}/_ping`);
  expect(noClientCert.code).not.toBe(0);
  const withCert = sh(`curl -sS --cacert ${store}/machines/loc/ca.pem --cert ${store}/machines/loc/cert.pem --key ${store}/machines/loc/key.pem https://127.0.0.1:${port}/_ping`);
  expect(withCert.stdout).toBe('OK');
});

test('stop, start, kill and restart act on the engine; status follows', () => {
  const first = enginePid();
  expect(berth(['machine', 'stop', 'loc'], env).code).toBe(0);
  expect(berth(['machine', 'status', 'loc'], env).stdout).toBe('Stopped\n');
  expect(alive(first)).toBe(false);
  expect(berth(['machine', 'start', 'loc'], env).code).toBe(0);
  expect(berth(['machine', 'status', 'loc'], env).stdout).toBe('Running\n');
  const second = enginePid();
  expect(berth(['machine', 'kill', 'loc'], env).code).toBe(0);
  expect(alive(second)).toBe(false);
  expect(JSON.parse(berth(['machine', 'status', '--json', 'loc'], env).stdout)).toEqual({ Name: 'loc', State: 'Stopped' });
  expect(berth(['machine', 'restart', 'loc'], env).code).toBe(0);
  expect(berth(['machine', 'status', 'loc'], env).stdout).toBe('Running\n');
});

test('the supervisor restarts an engine that dies', async () => {
  const pid = enginePid();
  process.kill(pid, 'SIGKILL');
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    const now = existsSync(join(prefix, 'run', 'berth', 'berthd.pid')) ? enginePid() : 0;
    if (now && now !== pid && alive(now) && berth(['machine', 'status', 'loc'], env).stdout === 'Running\n') return;
  }
  throw new Error('berthd was not restarted within 20 s');
});

test('upgrade with the same bundle uploads nothing; ssh runs locally; config prints client flags', () => {
  expect(JSON.parse(berth(['machine', 'upgrade', '--json', 'loc'], env).stdout)).toEqual({ upgraded: { loc: false }, errors: [] });
  const before = enginePid();
  const prov = berth(['machine', 'provision', 'loc'], env);
  expect([prov.code, prov.stderr]).toEqual([0, '']);
  expect(prov.stdout).toMatch(/Provisioning loc/);
  expect(enginePid()).not.toBe(before);
  expect(berth(['machine', 'status', 'loc'], env).stdout).toBe('Running\n');
  const r = berth(['machine', 'ssh', 'loc', 'echo here; exit 4'], env);
  expect([r.stdout, r.code]).toEqual(['here\n', 4]);
  expect(berth(['machine', 'config', 'loc'], env).stdout).toBe(`--tlsverify\n--tlscacert="${store}/machines/loc/ca.pem"\n--tlscert="${store}/machines/loc/cert.pem"\n--tlskey="${store}/machines/loc/key.pem"\n-H=tcp://127.0.0.1:${port}\n`);
});

test('rm stops the engine and removes its files', () => {
  const pid = enginePid();
  expect(berth(['machine', 'rm', '-y', 'loc'], env).code).toBe(0);
  expect(alive(pid)).toBe(false);
  expect(existsSync(join(prefix, 'opt', 'berth'))).toBe(false);
  expect(existsSync(join(store, 'machines', 'loc'))).toBe(false);
});
