/**
 * The engine port under mTLS refuses every client certificate it should: expired, not
 * yet valid, from a foreign CA, without the clientAuth key usage, and one signed by a
 * CA that was regenerated since (what `regenerate-certs` revokes). The probe is the
 * client's own ping (src/client/tls.ts), the one `machine env`'s check uses, so both
 * sides are covered: the engine refuses, and the check reports the refusal.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientCertProblem, loadTlsMaterial, ping } from '../../../src/client/tls.js';
import { startDaemon, type Daemon } from '../../fixtures/daemon.js';
import { makeTlsFiles, type TlsFiles } from '../../fixtures/tls.js';
import { removeTree } from '../../fixtures/rootfs.js';

let dir: string;
let tls: TlsFiles;
let d: Daemon;
let port: number;

const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });

/** A client certificate from `ca` with the given validity and extensions, as a DOCKER_CERT_PATH dir. */
function client(name: string, opts: { ca?: string; start?: string; end?: string; ext?: string } = {}): { ca: string; cert: string; key: string } {
  const ca = opts.ca ?? 'ca';
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}-key.pem`]);
  openssl(['req', '-new', '-key', `${name}-key.pem`, '-subj', `/CN=${name}`, '-out', `${name}.csr`]);
  writeFileSync(join(dir, `${name}.ext`), opts.ext ?? 'extendedKeyUsage=clientAuth\n');
  openssl(['ca', '-batch', '-notext', '-config', 'ca.cnf', '-cert', `${ca}.pem`, '-keyfile', `${ca}-key.pem`, '-in', `${name}.csr`, '-out', `${name}.pem`,
    '-startdate', opts.start ?? '20200101000000Z', '-enddate', opts.end ?? '20991231000000Z', '-extfile', `${name}.ext`]);
  return { ca: tls.ca, cert: join(dir, `${name}.pem`), key: join(dir, `${name}-key.pem`) };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-mtls-'));
  tls = makeTlsFiles(dir);
  mkdirSync(join(dir, 'db'));
  writeFileSync(join(dir, 'db', 'index.txt'), '');
  writeFileSync(join(dir, 'db', 'serial'), '1000\n');
  writeFileSync(join(dir, 'ca.cnf'), '[ca]\ndefault_ca=d\n[d]\ndatabase=db/index.txt\nserial=db/serial\nnew_certs_dir=db\ndefault_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n');
  d = await startDaemon({ tcp: { tls: { ca: tls.ca, cert: tls.serverCert, key: tls.serverKey } } });
  port = Number(d.tcp!.split(':').at(-1));
}, 60_000);

afterAll(async () => {
  await d?.stop();
  if (dir) removeTree(dir);
});

/** The engine refuses the certificate (over TLS 1.3 the client sees a closed socket), and the check says why. */
async function refused(paths: { ca: string; cert: string; key: string }, why: RegExp): Promise<void> {
  const material = await loadTlsMaterial(paths);
  const err = await ping('127.0.0.1', port, material, 5000).then(() => undefined, (e: Error) => e);
  expect(err?.message ?? `the engine accepted ${paths.cert}`).toMatch(/socket hang up|ECONNRESET|alert/);
  expect(clientCertProblem(material)).toMatch(why);
}

test('a good client certificate is accepted (the refusals below are about the certificate)', async () => {
  const good = await loadTlsMaterial(client('good'));
  await ping('127.0.0.1', port, good, 5000);
  expect(clientCertProblem(good)).toBeUndefined();
});

test('expired, not yet valid, foreign-CA and wrong key usage client certificates are refused, and the check says which', async () => {
  const far = new Date(Date.now() + 365 * 86400e3).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  await refused(client('expired', { start: '20200101000000Z', end: '20200201000000Z' }), /expired on/);
  await refused(client('future', { start: far, end: '20991231000000Z' }), /not valid before/);
  await refused({ ca: tls.ca, cert: join(tls.foreignDir, 'cert.pem'), key: join(tls.foreignDir, 'key.pem') }, /not signed by the machine's CA/);
  await refused(client('serveronly', { ext: 'extendedKeyUsage=serverAuth\n' }), /not for client authentication/);
});

test('after the CA is regenerated, a client certificate of the old CA is refused', async () => {
  const old = client('old-ca-client');
  // regenerate-certs: a new CA, a new server certificate; the engine restarts with them.
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca2-key.pem']);
  openssl(['req', '-x509', '-new', '-key', 'ca2-key.pem', '-sha256', '-days', '2', '-subj', '/CN=ca2', '-out', 'ca2.pem']);
  const server = client('server2', { ca: 'ca2', ext: 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' });
  await d.stop();
  d = await startDaemon({ tcp: { tls: { ca: join(dir, 'ca2.pem'), cert: server.cert, key: server.key } } });
  port = Number(d.tcp!.split(':').at(-1));
  // The old client trusts the new server (it was given the new CA), yet the engine refuses its certificate.
  await refused({ ca: join(dir, 'ca2.pem'), cert: old.cert, key: old.key }, /not signed by the machine's CA/);
  await ping('127.0.0.1', port, await loadTlsMaterial({ ...client('new-ca-client', { ca: 'ca2' }), ca: join(dir, 'ca2.pem') }), 5000);
}, 60_000);
