import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { isIP } from 'node:net';

/**
 * Reading certificates with node:crypto (OpenSSL), so the commands that only check a
 * machine's certs (`env`, `ls`) do not load node-forge, which only issuing needs.
 */

/** An IP in one spelling (IPv6 compressed, lower case), whatever wrote it; names unchanged. */
export function canonicalSan(s: string): string {
  return isIP(s) === 6 ? new URL(`http://[${s}]/`).hostname.slice(1, -1) : s;
}

/** The IPs and DNS names a certificate is valid for. */
export function subjectAltNames(certPem: string): string[] {
  const text = new X509Certificate(certPem).subjectAltName ?? '';
  // "DNS:a, IP Address:10.0.0.5, DNS:\"a\\u002cb\"": names with special characters come JSON-quoted.
  const out: string[] = [];
  for (const m of text.matchAll(/(DNS|IP Address):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g)) {
    const value = m[2].startsWith('"') ? (JSON.parse(m[2]) as string) : m[2];
    if (value) out.push(m[1] === 'IP Address' ? canonicalSan(value) : value);
  }
  return out;
}

/** Whether the private key is the certificate's (a kill -9 between writing the two leaves a pair that is not). */
export function keyMatches(certPem: string, keyPem: string): boolean {
  try {
    const fromKey = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
    return fromKey.equals(new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' }));
  } catch {
    return false; // unreadable is not a usable pair either
  }
}

/** Whether the cert was signed by this CA (its key and subject). */
export function signedBy(certPem: string, caPem: string): boolean {
  try {
    const cert = new X509Certificate(certPem);
    const ca = new X509Certificate(caPem);
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  } catch {
    return false; // a malformed or foreign certificate simply is not ours
  }
}
