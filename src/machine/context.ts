import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { InvalidArgumentError, reason } from './errors.js';

/**
 * Docker contexts in the docker CLI's own store ($DOCKER_CONFIG or ~/.docker):
 * contexts/meta/<sha256(name)>/meta.json, the TLS files under
 * contexts/tls/<sha256(name)>/docker/, and "currentContext" in config.json.
 */
export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG || join(homedir(), '.docker');
}

export function contextName(machine: string): string {
  return `berth-${machine}`;
}

const digest = (name: string) => createHash('sha256').update(name).digest('hex');

export async function writeContext(name: string, description: string, host: string, tls: { ca: string; cert: string; key: string }, dir = dockerConfigDir()): Promise<void> {
  const id = digest(name);
  const meta = { Name: name, Metadata: { Description: description }, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } };
  const tlsDir = join(dir, 'contexts', 'tls', id, 'docker');
  await writeFileAtomic(join(tlsDir, 'ca.pem'), await readFile(tls.ca), 0o600);
  await writeFileAtomic(join(tlsDir, 'cert.pem'), await readFile(tls.cert), 0o600);
  await writeFileAtomic(join(tlsDir, 'key.pem'), await readFile(tls.key), 0o600);
  await writeFileAtomic(join(dir, 'contexts', 'meta', id, 'meta.json'), JSON.stringify(meta), 0o644);
}

export async function removeContext(name: string, dir = dockerConfigDir()): Promise<void> {
  const id = digest(name);
  await rm(join(dir, 'contexts', 'meta', id), { recursive: true, force: true });
  await rm(join(dir, 'contexts', 'tls', id), { recursive: true, force: true });
  if ((await currentContext(dir)) === name) await selectContext(undefined, dir);
}

async function readConfig(dir: string): Promise<Record<string, unknown>> {
  const path = join(dir, 'config.json');
  const text = await readFile(path, 'utf8').catch((err) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '{}';
    throw err;
  });
  try {
    return JSON.parse(text || '{}');
  } catch (err) {
    throw new InvalidArgumentError(`${path} is not valid JSON: ${reason(err)}`, { hint: 'fix that file; berth keeps its other settings' });
  }
}

export async function currentContext(dir = dockerConfigDir()): Promise<string | undefined> {
  return (await readConfig(dir)).currentContext as string | undefined;
}

/** Selects a context (undefined = docker's default), keeping every other setting of config.json. */
export async function selectContext(name: string | undefined, dir = dockerConfigDir()): Promise<void> {
  const cfg = await readConfig(dir);
  if (name) cfg.currentContext = name;
  else delete cfg.currentContext;
  await writeFileAtomic(join(dir, 'config.json'), JSON.stringify(cfg, null, '\t') + '\n', 0o600);
}
