/**
 * The swarm's own certificate authority: one CA per cluster, made on `swarm init`;
 * every node gets a certificate (CN = node id, OU = swarm-manager | swarm-worker,
 * O = cluster id) usable as TLS server and client, for etcd's peer and client
 * ports and for the control port. Keys come from node:crypto (OpenSSL, milliseconds);
 * forge only assembles and signs the certificates.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

export interface Pem { cert: string; key: string }

const CA_DAYS = 20 * 365;
const NODE_DAYS = 90;

function newKey(): string {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'pkcs1', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  }).privateKey;
}

function base(keyPem: string, days: number, subject: forge.pki.CertificateField[]) {
  const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  cert.serialNumber = serial.toString('hex');
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 5 * 60_000);
  cert.validity.notAfter = new Date(now + days * 86_400_000);
  cert.setSubject(subject);
  return { cert, key };
}

export function newSwarmCa(): Pem {
  const keyPem = newKey();
  const { cert, key } = base(keyPem, CA_DAYS, [{ name: 'commonName', value: 'swarm-ca' }]);
  cert.setIssuer(cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
  ]);
  cert.sign(key, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keyPem };
}

export type NodeRole = 'manager' | 'worker';

/** A node certificate for its id, role and the addresses its ports answer on. */
export function issueNodeCert(ca: Pem, nodeId: string, role: NodeRole, clusterId: string, addrs: string[]): Pem {
  const keyPem = newKey();
  const { cert } = base(keyPem, NODE_DAYS, [
    { name: 'commonName', value: nodeId },
    { shortName: 'OU', value: `swarm-${role}` },
    { name: 'organizationName', value: clusterId },
  ]);
  const caCert = forge.pki.certificateFromPem(ca.cert);
  cert.setIssuer(caCert.subject.attributes);
  const sans = [...new Set([...addrs, '127.0.0.1', 'localhost', nodeId].filter(Boolean))];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', altNames: sans.map((s) => (isIP(s) ? { type: 7, ip: s } : { type: 2, value: s })) },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(ca.key) as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keyPem };
}

/** The identity a verified peer certificate carries. */
export function certIdentity(subject: Record<string, string | string[] | undefined>): { nodeId: string; role: NodeRole } | undefined {
  const cn = subject.CN;
  const ou = subject.OU;
  if (typeof cn !== 'string' || typeof ou !== 'string') return undefined;
  if (ou === 'swarm-manager') return { nodeId: cn, role: 'manager' };
  if (ou === 'swarm-worker') return { nodeId: cn, role: 'worker' };
  return undefined;
}

/** docker's TLSInfo of a node or cluster: the trust root and the issuer's subject and key (base64 DER). */
export function tlsInfo(caPem: string): { TrustRoot: string; CertIssuerSubject: string; CertIssuerPublicKey: string } {
  const cert = forge.pki.certificateFromPem(caPem);
  const subjectDer = forge.asn1.toDer(forge.pki.distinguishedNameToAsn1(cert.subject)).getBytes();
  const keyDer = forge.asn1.toDer(forge.pki.publicKeyToAsn1(cert.publicKey)).getBytes();
  return { TrustRoot: caPem, CertIssuerSubject: forge.util.encode64(subjectDer), CertIssuerPublicKey: forge.util.encode64(keyDer) };
}

export function caDigest(caPem: string): string {
  return createHash('sha256').update(caPem).digest('hex');
}
