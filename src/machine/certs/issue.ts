import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

/**
 * Certificates as Docker Machine makes them: RSA 2048 keys in PKCS#1 PEM, validity
 * from five minutes ago to 1080 days, a random 128-bit serial. Keys come from
 * node:crypto (OpenSSL, milliseconds) rather than forge's pure-JS RSA (seconds).
 */
export interface Pem { cert: string; key: string }

const VALID_DAYS = 1080;

export function newRsaKey(): string {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'pkcs1', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return privateKey;
}

function baseCert(keyPem: string, org: string): { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey } {
  const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  // A positive serial: clear the top bit so DER does not read it as negative.
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  cert.serialNumber = serial.toString('hex');
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 5 * 60_000);
  cert.validity.notAfter = new Date(now + VALID_DAYS * 86_400_000);
  cert.setSubject([{ name: 'organizationName', value: org }]);
  return { cert, key };
}

function sign(cert: forge.pki.Certificate, signer: forge.pki.PrivateKey): string {
  cert.sign(signer as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

export function issueCA(org: string): Pem {
  const keyPem = newRsaKey();
  const { cert, key } = baseCert(keyPem, org);
  cert.setIssuer(cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, digitalSignature: true, keyEncipherment: true, critical: true },
  ]);
  return { cert: sign(cert, key), key: keyPem };
}

function issueLeaf(ca: Pem, org: string, extensions: object[]): Pem {
  const keyPem = newRsaKey();
  const { cert } = baseCert(keyPem, org);
  const caCert = forge.pki.certificateFromPem(ca.cert);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyAgreement: true, critical: true },
    ...extensions,
  ]);
  return { cert: sign(cert, forge.pki.privateKeyFromPem(ca.key)), key: keyPem };
}

export function issueClient(ca: Pem, org: string): Pem {
  return issueLeaf(ca, org, [{ name: 'extKeyUsage', clientAuth: true }]);
}

/** A server cert for the given SANs: each is an IP or a DNS name. */
export function issueServer(ca: Pem, org: string, sans: string[]): Pem {
  const altNames = unique(sans).map((s) => (isIP(s) ? { type: 7, ip: s } : { type: 2, value: s }));
  return issueLeaf(ca, org, [{ name: 'extKeyUsage', serverAuth: true }, { name: 'subjectAltName', altNames }]);
}

export { signedBy, subjectAltNames } from './inspect.js';

function unique(xs: string[]): string[] {
  return [...new Set(xs.filter(Boolean))];
}
