/**
 * The swarm's own certificate authority: one CA per cluster, made on `swarm init`;
 * every node gets a certificate (CN = node id, OU = swarm-manager | swarm-worker,
 * O = cluster id) usable as TLS server and client, for etcd's peer and client
 * ports and for the control port. Keys come from node:crypto (OpenSSL, milliseconds);
 * forge only assembles and signs the certificates.
 */
import { createHash, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { altNames, newCertificate, newRsaKey, signCertificate, type Pem } from '../../src/common/x509.js';

export type { Pem };

const CA_DAYS = 20 * 365;
const NODE_DAYS = 90;

/** `name` differs per rotation, so that while old and new are both trusted each certificate's issuer is unambiguous. */
export function newSwarmCa(name = 'swarm-ca'): Pem {
  const keyPem = newRsaKey();
  const { cert, key } = newCertificate(keyPem, CA_DAYS, [{ name: 'commonName', value: name }]);
  cert.setIssuer(cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
  ]);
  return { cert: signCertificate(cert, key), key: keyPem };
}

export type NodeRole = 'manager' | 'worker';

/** A node certificate for its id, role and the addresses its ports answer on. */
export function issueNodeCert(ca: Pem, nodeId: string, role: NodeRole, clusterId: string, addrs: string[]): Pem {
  const keyPem = newRsaKey();
  const { cert } = newCertificate(keyPem, NODE_DAYS, [
    { name: 'commonName', value: nodeId },
    { shortName: 'OU', value: `swarm-${role}` },
    { name: 'organizationName', value: clusterId },
  ]);
  const caCert = forge.pki.certificateFromPem(ca.cert);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', altNames: altNames([...addrs, '127.0.0.1', 'localhost', nodeId]) },
  ]);
  return { cert: signCertificate(cert, ca.key), key: keyPem };
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

/** The certificates of a PEM bundle (a trust root during a CA rotation holds two). */
export function pemBlocks(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)?.map((b) => (b.endsWith('\n') ? b : `${b}\n`)) ?? [];
}

/** Whether `certPem` was signed by the CA `caPem`. */
export function signedBy(certPem: string, caPem: string): boolean {
  try {
    return new X509Certificate(certPem).verify(new X509Certificate(caPem).publicKey);
  } catch {
    return false;
  }
}

/** SHA-256 fingerprint of a certificate (of the first one of a bundle), whatever its PEM line endings. */
export function fingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}
