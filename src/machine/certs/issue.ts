import forge from 'node-forge';
import { altNames, newCertificate, newRsaKey, newRsaKeyAsync, signCertificate, type Pem } from '../../common/x509.js';

/**
 * Certificates as Docker Machine makes them: RSA 2048 keys, validity from five minutes
 * ago to 1080 days, a random 128-bit serial (the primitives are src/common/x509.ts).
 */
export { newRsaKey, type Pem };

const VALID_DAYS = 1080;

const baseCert = (keyPem: string, org: string) => newCertificate(keyPem, VALID_DAYS, [{ name: 'organizationName', value: org }]);

export function issueCA(org: string): Pem {
  const keyPem = newRsaKey();
  const { cert, key } = baseCert(keyPem, org);
  cert.setIssuer(cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, digitalSignature: true, keyEncipherment: true, critical: true },
  ]);
  return { cert: signCertificate(cert, key), key: keyPem };
}

function issueLeaf(ca: Pem, org: string, extensions: object[], keyPem = newRsaKey()): Pem {
  const { cert } = baseCert(keyPem, org);
  const caCert = forge.pki.certificateFromPem(ca.cert);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyAgreement: true, critical: true },
    ...extensions,
  ]);
  return { cert: signCertificate(cert, ca.key), key: keyPem };
}

export function issueClient(ca: Pem, org: string): Pem {
  return issueLeaf(ca, org, [{ name: 'extKeyUsage', clientAuth: true }]);
}

/** A server cert for the given SANs: each is an IP or a DNS name. Its key is made off the event loop. */
export async function issueServer(ca: Pem, org: string, sans: string[]): Promise<Pem> {
  return issueLeaf(ca, org, [{ name: 'extKeyUsage', serverAuth: true }, { name: 'subjectAltName', altNames: altNames(sans) }], await newRsaKeyAsync());
}

export { signedBy, subjectAltNames } from './inspect.js';
