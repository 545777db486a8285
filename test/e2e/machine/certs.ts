import forge from 'node-forge';

/** The serial number of a PEM certificate, lower-case hex as openssl prints it. */
export function serialOf(pem: string): string {
  return forge.pki.certificateFromPem(pem).serialNumber.toLowerCase();
}
