/**
 * Registry credentials: X-Registry-Auth headers (base64url JSON) and the ones
 * POST /auth verified, kept by registry host for later pulls and pushes.
 */
import { InvalidArgumentError } from '../../errors.js';
import type { RegistryAuth } from '../index.js';

export function decodeRegistryAuth(header: string | undefined): RegistryAuth | undefined {
  if (!header) return undefined;
  let text: string;
  try {
    text = Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    if (!text.trim()) return undefined;
    const parsed = JSON.parse(text);
    if (!parsed || typeof parsed !== 'object') return undefined;
    const auth = parsed as RegistryAuth;
    if (auth.auth && !auth.username) {
      const plain = Buffer.from(auth.auth, 'base64').toString('utf8');
      const i = plain.indexOf(':');
      if (i > 0) {
        auth.username = plain.slice(0, i);
        auth.password = plain.slice(i + 1);
      }
    }
    return auth;
  } catch {
    throw new InvalidArgumentError('X-Registry-Auth header: not base64url-encoded JSON');
  }
}

/** "https://index.docker.io/v1/", "localhost:5000", "http://h:1/" -> registry host as in references. */
export function registryHostOf(serveraddress: string | undefined): string {
  if (!serveraddress) return 'docker.io';
  const host = serveraddress.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '');
  if (host === 'index.docker.io' || host === 'registry-1.docker.io' || host === 'docker.io') return 'docker.io';
  return host;
}

export class CredentialStore {
  private readonly byHost = new Map<string, RegistryAuth>();

  remember(auth: RegistryAuth): void {
    this.byHost.set(registryHostOf(auth.serveraddress), auth);
  }

  /** Explicit credentials win; else those POST /auth verified for this host. */
  forHost(host: string, explicit?: RegistryAuth): RegistryAuth | undefined {
    if (explicit && (explicit.username || explicit.identitytoken || explicit.registrytoken)) return explicit;
    return this.byHost.get(host);
  }
}
