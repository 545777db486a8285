import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where the engine is, found the way the docker CLI finds it: -H, then --context,
 * then DOCKER_HOST (+ DOCKER_TLS_VERIFY, DOCKER_CERT_PATH), then DOCKER_CONTEXT, then
 * the current context of $DOCKER_CONFIG/config.json, else berthd's own socket
 * (/run/berth/berthd.sock) when it exists, else /var/run/docker.sock.
 */
export type Endpoint =
  | { kind: 'unix'; path: string; label: string }
  | { kind: 'tcp'; host: string; port: number; tls?: TlsFiles; label: string };

export interface TlsFiles { ca?: Buffer; cert?: Buffer; key?: Buffer; verify: boolean }

export interface EndpointOptions {
  host?: string;
  context?: string;
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
}

export class EndpointError extends Error {}

export const BERTHD_SOCKET = '/run/berth/berthd.sock';
export const DOCKER_SOCKET = '/var/run/docker.sock';

export function dockerConfigDir(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_CONFIG || join(homedir(), '.docker');
}

export function resolveEndpoint(opts: EndpointOptions, env: NodeJS.ProcessEnv = process.env): Endpoint {
  if (opts.host) return fromHost(opts.host, tlsFromFlags(opts, env));
  if (opts.context) return fromContext(opts.context, env);
  if (env.DOCKER_HOST) return fromHost(env.DOCKER_HOST, tlsFromFlags(opts, env));
  const ctx = env.DOCKER_CONTEXT || currentContext(env);
  if (ctx && ctx !== 'default') return fromContext(ctx, env);
  const path = existsSync(BERTHD_SOCKET) ? BERTHD_SOCKET : DOCKER_SOCKET;
  return { kind: 'unix', path, label: `unix://${path}` };
}

/** unix:///path, tcp://host:port (2376 with TLS, else 2375), or a bare /path. */
export function fromHost(host: string, tls: TlsFiles | undefined): Endpoint {
  if (host.startsWith('/')) return { kind: 'unix', path: host, label: `unix://${host}` };
  const m = /^([a-z]+):\/\/(.*)$/.exec(host);
  if (!m) throw new EndpointError(`invalid host "${host}": use unix:///path/to/socket or tcp://HOST:PORT`);
  const [, scheme, rest] = m;
  if (scheme === 'unix') {
    if (!rest) throw new EndpointError(`invalid host "${host}": the unix socket path is empty`);
    return { kind: 'unix', path: rest, label: host };
  }
  if (scheme !== 'tcp' && scheme !== 'https' && scheme !== 'http') throw new EndpointError(`invalid host "${host}": scheme ${scheme} is not supported (use unix:// or tcp://)`);
  const hp = /^(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(rest);
  if (!hp) throw new EndpointError(`invalid host "${host}": expected tcp://HOST:PORT`);
  const useTls = scheme === 'https' || (tls !== undefined && scheme !== 'http');
  const port = hp[2] ? Number(hp[2]) : useTls ? 2376 : 2375;
  if (port < 1 || port > 65535) throw new EndpointError(`invalid host "${host}": port ${port} is out of range`);
  return { kind: 'tcp', host: hp[1].replace(/^\[|\]$/g, ''), port, tls: useTls ? (tls ?? { verify: false }) : undefined, label: host };
}

function readPem(path: string, what: string, fix: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new EndpointError(`cannot read the TLS ${what} ${path} (${(err as NodeJS.ErrnoException).code ?? err}): ${fix}`);
  }
}

/** TLS from --tlsverify/--tlscacert… or DOCKER_TLS_VERIFY + DOCKER_CERT_PATH; undefined = plain TCP. */
function tlsFromFlags(opts: EndpointOptions, env: NodeJS.ProcessEnv): TlsFiles | undefined {
  const verify = opts.tlsverify || !!env.DOCKER_TLS_VERIFY;
  if (!verify && !opts.tlscacert && !opts.tlscert) return undefined;
  const dir = env.DOCKER_CERT_PATH || dockerConfigDir(env);
  const fix = 'set DOCKER_CERT_PATH to a directory with ca.pem, cert.pem and key.pem';
  const file = (flag: string | undefined, name: string) => flag ?? join(dir, name);
  const optional = (path: string, what: string) => (existsSync(path) ? readPem(path, what, fix) : undefined);
  return {
    verify,
    ca: verify ? readPem(file(opts.tlscacert, 'ca.pem'), 'CA', fix) : optional(file(opts.tlscacert, 'ca.pem'), 'CA'),
    cert: optional(file(opts.tlscert, 'cert.pem'), 'certificate'),
    key: optional(file(opts.tlskey, 'key.pem'), 'key'),
  };
}

function currentContext(env: NodeJS.ProcessEnv): string | undefined {
  const path = join(dockerConfigDir(env), 'config.json');
  if (!existsSync(path)) return undefined;
  try {
    const cfg = JSON.parse(readFileSync(path, 'utf8') || '{}');
    return typeof cfg.currentContext === 'string' ? cfg.currentContext : undefined;
  } catch {
    throw new EndpointError(`${path} is not valid JSON: fix it or set DOCKER_HOST`);
  }
}

/** A docker context: contexts/meta/<sha256(name)>/meta.json and contexts/tls/<sha256(name)>/docker/*.pem. */
export function fromContext(name: string, env: NodeJS.ProcessEnv): Endpoint {
  if (name === 'default') {
    const path = existsSync(BERTHD_SOCKET) ? BERTHD_SOCKET : DOCKER_SOCKET;
    return env.DOCKER_HOST ? fromHost(env.DOCKER_HOST, undefined) : { kind: 'unix', path, label: `unix://${path}` };
  }
  // node:crypto is loaded here only: it would add ~8 ms to every command's start-up.
  const id = process.getBuiltinModule('node:crypto').createHash('sha256').update(name).digest('hex');
  const dir = dockerConfigDir(env);
  const metaPath = join(dir, 'contexts', 'meta', id, 'meta.json');
  if (!existsSync(metaPath)) throw new EndpointError(`context "${name}" does not exist (no ${metaPath}): list them with docker context ls, or run berth machine use`);
  let meta: { Endpoints?: { docker?: { Host?: string; SkipTLSVerify?: boolean } } };
  try {
    meta = JSON.parse(readFileSync(metaPath, 'utf8'));
  } catch {
    throw new EndpointError(`${metaPath} is not valid JSON: recreate the context "${name}"`);
  }
  const ep = meta.Endpoints?.docker;
  if (!ep?.Host) throw new EndpointError(`context "${name}" has no docker endpoint host in ${metaPath}`);
  const tlsDir = join(dir, 'contexts', 'tls', id, 'docker');
  const fix = `recreate the context "${name}"`;
  const has = (f: string) => existsSync(join(tlsDir, f));
  const tls: TlsFiles | undefined = has('ca.pem') || has('cert.pem')
    ? {
      verify: !ep.SkipTLSVerify,
      ca: has('ca.pem') ? readPem(join(tlsDir, 'ca.pem'), 'CA', fix) : undefined,
      cert: has('cert.pem') ? readPem(join(tlsDir, 'cert.pem'), 'certificate', fix) : undefined,
      key: has('key.pem') ? readPem(join(tlsDir, 'key.pem'), 'key', fix) : undefined,
    }
    : undefined;
  const e = fromHost(ep.Host, tls);
  return { ...e, label: `${ep.Host} (context ${name})` };
}
