import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EndpointError, fromHost, resolveEndpoint } from '../../../src/client/endpoint.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-endpoint-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('host strings', () => {
  expect(fromHost('unix:///run/x.sock', undefined)).toEqual({ kind: 'unix', path: '/run/x.sock', label: 'unix:///run/x.sock' });
  expect(fromHost('tcp://10.0.0.1', undefined)).toMatchObject({ kind: 'tcp', host: '10.0.0.1', port: 2375, tls: undefined });
  expect(fromHost('tcp://[::1]:1234', { verify: true })).toMatchObject({ host: '::1', port: 1234, tls: { verify: true } });
  expect(() => fromHost('ssh://me@host', undefined)).toThrow(EndpointError);
  expect(() => fromHost('localhost:2375', undefined)).toThrow(/use unix:\/\/\/path\/to\/socket or tcp:\/\/HOST:PORT/);
});

test('-H beats DOCKER_HOST, which beats the current context; TLS files come from DOCKER_CERT_PATH', () => {
  const certs = join(dir, 'certs');
  mkdirSync(certs, { recursive: true });
  for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(certs, f), `${f}\n`);
  const env = { DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs, DOCKER_CONFIG: dir };
  expect(resolveEndpoint({ host: 'unix:///a.sock' }, env)).toMatchObject({ kind: 'unix', path: '/a.sock' });
  const tcp = resolveEndpoint({}, env);
  expect(tcp).toMatchObject({ kind: 'tcp', port: 2376, tls: { verify: true } });
  expect(tcp.kind === 'tcp' && tcp.tls?.ca?.toString()).toBe('ca.pem\n');
  expect(() => resolveEndpoint({}, { ...env, DOCKER_CERT_PATH: join(dir, 'none') })).toThrow(/cannot read the TLS CA .*none\/ca\.pem/);
});

test('contexts from config.json, DOCKER_CONTEXT and --context', () => {
  const cfg = join(dir, 'cfg');
  const id = createHash('sha256').update('m1').digest('hex');
  mkdirSync(join(cfg, 'contexts', 'meta', id), { recursive: true });
  mkdirSync(join(cfg, 'contexts', 'tls', id, 'docker'), { recursive: true });
  writeFileSync(join(cfg, 'contexts', 'meta', id, 'meta.json'), JSON.stringify({ Name: 'm1', Endpoints: { docker: { Host: 'tcp://192.0.2.5:2376', SkipTLSVerify: false } } }));
  writeFileSync(join(cfg, 'contexts', 'tls', id, 'docker', 'ca.pem'), 'ca');
  writeFileSync(join(cfg, 'config.json'), JSON.stringify({ currentContext: 'm1' }));
  const viaCurrent = resolveEndpoint({}, { DOCKER_CONFIG: cfg });
  expect(viaCurrent).toMatchObject({ kind: 'tcp', host: '192.0.2.5', port: 2376, tls: { verify: true }, label: 'tcp://192.0.2.5:2376 (context m1)' });
  expect(resolveEndpoint({}, { DOCKER_CONFIG: cfg, DOCKER_HOST: 'unix:///x.sock' })).toMatchObject({ kind: 'unix', path: '/x.sock' });
  expect(resolveEndpoint({ context: 'm1' }, { DOCKER_CONFIG: cfg, DOCKER_HOST: 'unix:///x.sock' })).toMatchObject({ host: '192.0.2.5' });
  expect(() => resolveEndpoint({}, { DOCKER_CONFIG: cfg, DOCKER_CONTEXT: 'gone' })).toThrow(/context "gone" does not exist/);
  writeFileSync(join(cfg, 'config.json'), '{not json');
  expect(() => resolveEndpoint({}, { DOCKER_CONFIG: cfg })).toThrow(/config\.json is not valid JSON/);
});
