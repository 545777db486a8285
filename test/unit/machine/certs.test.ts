import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseSettings } from '../../../drivers/driver.js';
import { genericDriver } from '../../../drivers/generic/index.js';
import { ensureStoreCerts, serverCertCurrent, writeMachineCerts } from '../../../src/machine/certs/index.js';
import { issueCA, issueServer, signedBy, subjectAltNames } from '../../../src/machine/certs/issue.js';
import { keyMatches } from '../../../src/machine/certs/inspect.js';
import { newHostConfig } from '../../../src/machine/create.js';
import { newEd25519Key } from '../../../src/machine/sshkey.js';
import { Store } from '../../../src/machine/store/index.js';

const dirs: string[] = [];
const tmp = () => { const d = mkdtempSync(join(tmpdir(), 'berth-certs-test-')); dirs.push(d); return d; };
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

test('reading a cert back (node:crypto): IPv6 SANs in one spelling, quoted names, a look-alike CA refused', async () => {
  const ca = issueCA('tester');
  const server = await issueServer(ca, 'tester.m6', ['fd00:0::1', 'a,b.example', '192.168.1.2']);
  expect(subjectAltNames(server.cert).sort()).toEqual(['192.168.1.2', 'a,b.example', 'fd00::1']);
  // Same subject, another key: the issuer names match, the signature does not.
  expect(signedBy(server.cert, issueCA('tester').cert)).toBe(false);
  expect(signedBy('not a certificate', ca.cert)).toBe(false);
});

test('server certs carry the SANs, RSA 2048 PKCS#1 keys, and verify with openssl against the CA', async () => {
  const ca = issueCA('tester');
  const server = await issueServer(ca, 'tester.m1', ['10.0.0.5', 'web.example', 'localhost']);
  expect(server.key.startsWith('-----BEGIN RSA PRIVATE KEY-----')).toBe(true);
  expect(subjectAltNames(server.cert).sort()).toEqual(['10.0.0.5', 'localhost', 'web.example']);
  expect(signedBy(server.cert, ca.cert)).toBe(true);
  expect(signedBy(server.cert, issueCA('other').cert)).toBe(false);
  const dir = tmp();
  writeFileSync(join(dir, 'ca.pem'), ca.cert);
  writeFileSync(join(dir, 's.pem'), server.cert);
  expect(execFileSync('openssl', ['verify', '-purpose', 'sslserver', '-CAfile', join(dir, 'ca.pem'), join(dir, 's.pem')], { encoding: 'utf8' })).toMatch(/OK/);
  expect(execFileSync('openssl', ['x509', '-noout', '-text', '-in', join(dir, 's.pem')], { encoding: 'utf8' })).toMatch(/Public-Key: \(2048 bit\)/);
});

test('the store CA is made once; a machine cert is current until the IP moves', async () => {
  const store = new Store(tmp());
  const first = await ensureStoreCerts(store);
  const again = await ensureStoreCerts(store);
  expect(again.ca.cert).toBe(first.ca.cert);
  await store.reserve('m1', 'Reserving');
  const d = genericDriver.fromFlags(baseSettings('m1', store.root, join(store.machineDir('m1'), 'id_rsa')), { 'generic-ip-address': '10.0.0.7' });
  const host = newHostConfig(store, 'm1', d, {}, ['extra.example']);
  await writeMachineCerts(store, host);
  expect(await serverCertCurrent(store, host)).toBe(true);
  expect(readFileSync(join(store.machineDir('m1'), 'ca.pem'), 'utf8')).toBe(first.ca.cert);
  host.Driver.IPAddress = '10.0.0.8';
  expect(await serverCertCurrent(store, host)).toBe(false);
  await ensureStoreCerts(store, { regenerate: true });
  host.Driver.IPAddress = '10.0.0.7';
  expect(await serverCertCurrent(store, host)).toBe(false); // signed by the old CA
});

test('a CA or client key that does not match its certificate (kill -9 between the two writes) is made again', async () => {
  const store = new Store(tmp());
  const first = await ensureStoreCerts(store);
  const stray = issueCA('stray');
  writeFileSync(join(store.certsDir, 'ca-key.pem'), stray.key);
  const healed = await ensureStoreCerts(store);
  expect(healed.ca.cert).not.toBe(first.ca.cert);
  expect(healed.ca.key).toBe(readFileSync(join(store.certsDir, 'ca-key.pem'), 'utf8'));
  expect(signedBy(healed.client.cert, healed.ca.cert)).toBe(true);
  const server = await issueServer(healed.ca, 'tester.m', ['10.0.0.9']);
  expect(signedBy(server.cert, readFileSync(join(store.certsDir, 'ca.pem'), 'utf8'))).toBe(true);
  // The client's key alone replaced: a new client cert, the same CA.
  writeFileSync(join(store.certsDir, 'key.pem'), stray.key);
  const again = await ensureStoreCerts(store);
  expect(again.ca.cert).toBe(healed.ca.cert);
  expect(again.client.cert).not.toBe(healed.client.cert);
  expect(keyMatches(readFileSync(join(store.certsDir, 'cert.pem'), 'utf8'), readFileSync(join(store.certsDir, 'key.pem'), 'utf8'))).toBe(true);
});

test('ed25519 keys are in OpenSSH format: ssh-keygen reads the private key and derives the same public key', () => {
  const pair = newEd25519Key('me@berth');
  const dir = tmp();
  writeFileSync(join(dir, 'k'), pair.privateKey, { mode: 0o600 });
  const pub = execFileSync('ssh-keygen', ['-y', '-f', join(dir, 'k')], { encoding: 'utf8' });
  expect(pub.trim().split(' ').slice(0, 2)).toEqual(pair.publicKey.trim().split(' ').slice(0, 2));
});
