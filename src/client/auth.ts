import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dockerConfigDir } from './endpoint.js';

/**
 * X-Registry-Auth for pull and push: the credentials `docker login` stored in
 * $DOCKER_CONFIG/config.json ("auths" → base64 "user:password") for the image's
 * registry, or an empty object, which engines accept as anonymous.
 */
export function registryAuthHeader(registry: string, env: NodeJS.ProcessEnv = process.env): string {
  const path = join(dockerConfigDir(env), 'config.json');
  let auth: { username?: string; password?: string; serveraddress?: string } = {};
  if (existsSync(path)) {
    try {
      const cfg = JSON.parse(readFileSync(path, 'utf8') || '{}');
      const keys = registry === 'docker.io' ? ['https://index.docker.io/v1/', 'docker.io', 'index.docker.io'] : [registry, `https://${registry}`, `http://${registry}`];
      const entry = keys.map((k) => cfg.auths?.[k]).find((e) => e?.auth);
      if (entry) {
        const text = Buffer.from(entry.auth, 'base64').toString('utf8');
        const colon = text.indexOf(':');
        auth = { username: text.slice(0, colon), password: text.slice(colon + 1), serveraddress: registry };
      }
    } catch {
      // An unreadable config gives anonymous access, as the docker CLI does; the registry says what is missing.
    }
  }
  return Buffer.from(JSON.stringify(auth)).toString('base64url');
}
