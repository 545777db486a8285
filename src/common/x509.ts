/**
 * The certificate primitives the machine store's CA and the swarm CA share: RSA 2048
 * keys in PKCS#1 PEM from node:crypto (OpenSSL, milliseconds, not forge's pure-JS RSA),
 * a random positive 128-bit serial, validity from five minutes ago, SHA-256 signatures.
 */
import { generateKeyPair, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import forge from 'node-forge';

export interface Pem { cert: string; key: string }

const RSA_2048 = {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'pkcs1', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
} as const;

export function newRsaKey(): string {
  return generateKeyPairSync('rsa', RSA_2048).privateKey;
}

/** The same, made on libuv's thread pool: a create keeps its SSH handshake going meanwhile. */
export async function newRsaKeyAsync(): Promise<string> {
  return (await promisify(generateKeyPair)('rsa', RSA_2048)).privateKey;
}

/** An unsigned certificate for keyPem's public key, valid for `days`. */
export function newCertificate(keyPem: string, days: number, subject: forge.pki.CertificateField[]): { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey } {
  const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  // A positive serial: clear the top bit so DER does not read it as negative.
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  cert.serialNumber = serial.toString('hex');
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 5 * 60_000);
  cert.validity.notAfter = new Date(now + days * 86_400_000);
  cert.setSubject(subject);
  return { cert, key };
}

/** Signs with the signer's key (PEM or parsed) and returns the certificate's PEM. */
export function signCertificate(cert: forge.pki.Certificate, signer: string | forge.pki.PrivateKey): string {
  const keyPem = typeof signer === 'string' ? signer : forge.pki.privateKeyToPem(signer);
  // What forge's cert.sign does, with the RSA signature from OpenSSL (forge's JS RSA takes ~100 ms).
  const c = cert as forge.pki.Certificate & { tbsCertificate: forge.asn1.Asn1; signatureOid: string; siginfo: { algorithmOid: string } };
  c.signatureOid = c.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption;
  c.tbsCertificate = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  const tbs = Buffer.from(forge.asn1.toDer(c.tbsCertificate).getBytes(), 'binary');
  c.signature = sign('sha256', tbs, keyPem).toString('binary');
  return forge.pki.certificateToPem(cert);
}

/** subjectAltName entries: an IP address or a DNS name each, without repeats or blanks. */
export function altNames(sans: string[]): Array<{ type: number; ip?: string; value?: string }> {
  return [...new Set(sans.filter(Boolean))].map((s) => (isIP(s) ? { type: 7, ip: s } : { type: 2, value: s }));
}
