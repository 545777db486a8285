import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic.js';
import { crashPoint } from '../crashpoint.js';
import { withLock } from '../lock.js';
import { TlsError } from '../errors.js';
import type { Store } from '../store/index.js';
import type { HostConfig } from '../store/host.js';
import { canonicalSan, keyMatches, signedBy, subjectAltNames } from './inspect.js';
import type { Pem } from './issue.js';

export { subjectAltNames, signedBy } from './inspect.js';
export type { Pem } from './issue.js';

// Issuing needs node-forge, which costs more to load than checking a cert: only then.
const issuing = () => import('./issue.js');

export interface StoreCerts {
  caCert: string; caKey: string; clientCert: string; clientKey: string;
}

function user(): string {
  return process.env.USER || userInfo().username || 'berth';
}

export function storeCertPaths(store: Store): StoreCerts {
  const d = store.certsDir;
  return { caCert: join(d, 'ca.pem'), caKey: join(d, 'ca-key.pem'), clientCert: join(d, 'cert.pem'), clientKey: join(d, 'key.pem') };
}

async function readPem(cert: string, key: string): Promise<Pem | null> {
  try {
    return { cert: await readFile(cert, 'utf8'), key: await readFile(key, 'utf8') };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * The store's CA and client cert, made once (under a store-wide lock: creates run in
 * parallel). Each key is written before its certificate: a pair that does not match
 * (killed in between) is made again, as a missing one is.
 */
export async function ensureStoreCerts(store: Store, opts: { regenerate?: boolean } = {}): Promise<{ ca: Pem; client: Pem }> {
  const p = storeCertPaths(store);
  // Made already (the usual case): files are written whole, key before cert, so a
  // matching pair is complete and needs no lock (parallel creates queued on it).
  if (!opts.regenerate) {
    const ca = await readPem(p.caCert, p.caKey);
    const client = await readPem(p.clientCert, p.clientKey);
    if (ca && client && keyMatches(ca.cert, ca.key) && keyMatches(client.cert, client.key) && signedBy(client.cert, ca.cert)) return { ca, client };
  }
  return withLock(join(store.root, 'locks', 'certs.lock'), 'the store certificates', async () => {
    const pair = async (cert: string, key: string) => {
      const pem = opts.regenerate ? null : await readPem(cert, key);
      return pem && keyMatches(pem.cert, pem.key) ? pem : null;
    };
    let ca = await pair(p.caCert, p.caKey);
    let client = await pair(p.clientCert, p.clientKey);
    if (!ca) {
      ca = (await issuing()).issueCA(user());
      await writeFileAtomic(p.caKey, ca.key, 0o600);
      crashPoint('certs:ca');
      await writeFileAtomic(p.caCert, ca.cert, 0o644);
      client = null;
    }
    if (!client || !signedBy(client.cert, ca.cert)) {
      client = (await issuing()).issueClient(ca, `${user()}.bootstrap`);
      await writeFileAtomic(p.clientKey, client.key, 0o600);
      crashPoint('certs:client');
      await writeFileAtomic(p.clientCert, client.cert, 0o644);
    }
    return { ca, client };
  });
}

/** The SANs a machine's server cert must carry right now. */
export function wantedSans(host: HostConfig): string[] {
  // A VM behind forwarded ports (qemu) is also reached on its own address from inside its network.
  const guest = typeof host.Driver.GuestIPAddress === 'string' ? host.Driver.GuestIPAddress : '';
  return [...host.HostOptions.AuthOptions.ServerCertSANs, host.Driver.IPAddress, guest, 'localhost', '127.0.0.1'].filter(Boolean);
}

/**
 * Writes a fresh server cert for the machine's current SANs, signed by the machine's
 * CA, plus the machine's copies of the CA and client cert (what DOCKER_CERT_PATH
 * points at). The CA is the one config.json names: the store's, or the one an
 * imported machine brought along.
 */
export async function writeMachineCerts(store: Store, host: HostConfig): Promise<void> {
  const a = host.HostOptions.AuthOptions;
  if (a.CaCertPath === storeCertPaths(store).caCert) await ensureStoreCerts(store);
  const ca = await readPem(a.CaCertPath, a.CaPrivateKeyPath);
  const client = await readPem(a.ClientCertPath, a.ClientKeyPath);
  if (!ca || !client) throw new TlsError(`machine "${host.Name}": its CA or client certificate is missing (${a.CaCertPath}, ${a.ClientCertPath})`, { hint: `berth machine regenerate-certs --client-certs ${host.Name}` });
  const server = await (await issuing()).issueServer(ca, `${user()}.${host.Name}`, wantedSans(host));
  await writeFileAtomic(a.ServerKeyPath, server.key, 0o600);
  await writeFileAtomic(a.ServerCertPath, server.cert, 0o644);
  const dir = a.StorePath;
  if (a.CaCertPath !== join(dir, 'ca.pem')) await writeFileAtomic(join(dir, 'ca.pem'), ca.cert, 0o644);
  if (a.ClientCertPath !== join(dir, 'cert.pem')) {
    await writeFileAtomic(join(dir, 'cert.pem'), client.cert, 0o644);
    await writeFileAtomic(join(dir, 'key.pem'), client.key, 0o600);
  }
}

/** Whether the server cert on file still covers the machine's IP and is from the store CA. */
export async function serverCertCurrent(store: Store, host: HostConfig): Promise<boolean> {
  const a = host.HostOptions.AuthOptions;
  const pem = await readFile(a.ServerCertPath, 'utf8').catch(() => null);
  const ca = await readFile(a.CaCertPath, 'utf8').catch(() => null);
  void store;
  if (!pem || !ca || !signedBy(pem, ca)) return false;
  const sans = new Set(subjectAltNames(pem));
  return wantedSans(host).every((s) => sans.has(canonicalSan(s)));
}

