/**
 * Registry v2 client on fetch: endpoint choice (mirrors, insecure http), token
 * and basic auth from WWW-Authenticate challenges, retries on transient failures.
 * Blob and manifest bytes are verified by the content store, not here.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import { ConflictError, InvalidArgumentError, NotFoundError, UnauthorizedError, UnavailableError } from '../../errors.js';
import { log } from '../../log.js';
import type { RegistryAuth } from '../index.js';
import { MANIFEST_ACCEPT, SCHEMA1, sniffMediaType } from './media.js';

export interface RegistryOptions {
  insecure: string[];
  mirrors: string[];
}

interface Challenge {
  scheme: 'bearer' | 'basic';
  params: Record<string, string>;
}

export interface FetchedManifest {
  mediaType: string;
  digest?: string;
  bytes: Buffer;
}

const RETRIES = 3;
const NOT_RETRIED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'EPROTO', 'ERR_SSL_WRONG_VERSION_NUMBER']);

export class RegistryClient {
  /** Working base URL per registry host (http or https). */
  private readonly bases = new Map<string, string>();
  private readonly tokens = new Map<string, string>();

  constructor(private readonly opts: RegistryOptions) {}

  repo(domain: string, path: string, auth: RegistryAuth | undefined, actions: 'pull' | 'pull,push'): RepoClient {
    return new RepoClient(this, domain, path, auth, actions);
  }

  isInsecure(domain: string): boolean {
    const host = domain.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    if (host === 'localhost' || host === '::1' || host.startsWith('127.')) return true;
    return this.opts.insecure.some((entry) => {
      if (entry === domain || entry === host) return true;
      if (entry.includes('/') && isIP(host) === 4) return inCidr(host, entry);
      return false;
    });
  }

  /** Candidate base URLs, in order: mirrors (docker.io pulls), then the registry itself. */
  bases_(domain: string, forPush: boolean): string[] {
    const known = this.bases.get(domain);
    if (known) return forPush || domain !== 'docker.io' ? [known] : [...this.mirrors(), known];
    const host = domain === 'docker.io' ? 'registry-1.docker.io' : domain;
    const list = this.isInsecure(domain) ? [`http://${host}`, `https://${host}`] : [`https://${host}`];
    return domain === 'docker.io' && !forPush ? [...this.mirrors(), ...list] : list;
  }

  private mirrors(): string[] {
    return this.opts.mirrors.map((m) => m.replace(/\/+$/, ''));
  }

  rememberBase(domain: string, base: string): void {
    if (!this.opts.mirrors.some((m) => base.startsWith(m.replace(/\/+$/, '')))) this.bases.set(domain, base);
  }

  token(key: string): string | undefined {
    return this.tokens.get(key);
  }

  setToken(key: string, token: string): void {
    this.tokens.set(key, token);
  }

  /** GET /v2/_catalog, for image search against a private registry. */
  async catalog(domain: string, auth: RegistryAuth | undefined): Promise<string[]> {
    const rc = new RepoClient(this, domain, '', auth, 'pull', 'registry:catalog:*');
    const res = await rc.request('GET', '/v2/_catalog?n=1000', {});
    if (!res.ok) throw new UnavailableError(`registry ${domain}: catalog answered ${res.status}`);
    const body = (await res.json()) as { repositories?: string[] };
    return body.repositories ?? [];
  }

  /** Verifies credentials against the registry (POST /auth). */
  async login(domain: string, auth: RegistryAuth): Promise<void> {
    // Against the registry itself, never a mirror: a mirror would let any password through.
    const rc = new RepoClient(this, domain, '', auth, 'pull', undefined);
    rc.direct = true;
    let res: Response;
    try {
      res = await rc.request('GET', '/v2/', {});
    } catch (err) {
      if (err instanceof UnauthorizedError) throw new UnauthorizedError(`login to ${domain} failed: wrong username or password`, { cause: err });
      throw err;
    }
    if (res.status === 401 || res.status === 403) throw new UnauthorizedError(`login to ${domain} failed: ${res.status} ${res.statusText}: wrong username or password`);
    if (!res.ok) throw new UnavailableError(`login to ${domain}: registry answered ${res.status} ${res.statusText}`);
    await res.body?.cancel();
  }
}

export class RepoClient {
  /** Only the registry itself, never a mirror (login). */
  direct = false;

  constructor(
    private readonly client: RegistryClient,
    readonly domain: string,
    readonly path: string,
    private readonly auth: RegistryAuth | undefined,
    private readonly actions: 'pull' | 'pull,push',
    private readonly scopeOverride?: string,
  ) {}

  private get scope(): string {
    return this.scopeOverride ?? `repository:${this.path}:${this.actions}`;
  }

  private get name(): string {
    return `${this.domain}/${this.path}`;
  }

  /** One registry request with endpoint fallback, auth challenges and retries. */
  async request(method: string, pathAndQuery: string, init: { headers?: Record<string, string>; body?: Uint8Array | string; signal?: AbortSignal; absolute?: string; duplex?: boolean }): Promise<Response> {
    const bases = init.absolute ? [''] : this.client.bases_(this.domain, this.direct || this.actions !== 'pull');
    let lastErr: unknown;
    for (const base of bases) {
      const url = init.absolute ?? `${base}${pathAndQuery}`;
      try {
        const res = await this.withAuth(method, url, init);
        if (!init.absolute) this.client.rememberBase(this.domain, base);
        return res;
      } catch (err) {
        lastErr = err;
        if (err instanceof UnauthorizedError || err instanceof InvalidArgumentError) throw err;
        log.debug(`registry ${url}: ${(err as Error).message}`);
      }
    }
    const cause = lastErr as Error & { cause?: { code?: string; message?: string } };
    const detail = cause?.cause?.code ?? cause?.cause?.message ?? cause?.message;
    throw new UnavailableError(`registry ${this.domain} is unreachable: ${detail}`, { cause: lastErr });
  }

  /** Cached authorizations belong to the exact credentials that earned them. */
  private tokenKey(): string {
    const secret = createHash('sha256').update(`${this.auth?.password ?? ''}|${this.auth?.registrytoken ?? ''}|${this.auth?.identitytoken ?? ''}`).digest('hex');
    return `${this.domain}|${this.scope}|${this.auth?.username ?? ''}|${secret}`;
  }

  private async withAuth(method: string, url: string, init: { headers?: Record<string, string>; body?: Uint8Array | string; signal?: AbortSignal }): Promise<Response> {
    const headers: Record<string, string> = { 'User-Agent': 'berthd', ...(init.headers ?? {}) };
    const token = this.client.token(this.tokenKey());
    if (token) headers.Authorization = token;
    let res = await fetchRetry(url, { method, headers, body: init.body as Uint8Array | undefined, signal: init.signal });
    if (res.status !== 401) return res;
    const challenge = parseChallenge(res.headers.get('www-authenticate'));
    await res.body?.cancel();
    if (!challenge) return res;
    const authz = await this.authorize(challenge);
    if (!authz) throw new UnauthorizedError(`${this.name}: authentication required: run docker login ${this.domain}`);
    this.client.setToken(this.tokenKey(), authz);
    res = await fetchRetry(url, { method, headers: { ...headers, Authorization: authz }, body: init.body as Uint8Array | undefined, signal: init.signal });
    if (res.status === 401) {
      await res.body?.cancel();
      throw new UnauthorizedError(`${this.name}: unauthorized: the registry refused the credentials (run docker login ${this.domain})`);
    }
    return res;
  }

  private basic(): string | undefined {
    const a = this.auth;
    if (!a?.username) return undefined;
    return `Basic ${Buffer.from(`${a.username}:${a.password ?? ''}`).toString('base64')}`;
  }

  private async authorize(ch: Challenge): Promise<string | undefined> {
    if (ch.scheme === 'basic') return this.basic();
    if (this.auth?.registrytoken) return `Bearer ${this.auth.registrytoken}`;
    const realm = ch.params.realm;
    if (!realm) throw new UnauthorizedError(`${this.name}: bearer challenge without realm`);
    const u = new URL(realm);
    if (ch.params.service) u.searchParams.set('service', ch.params.service);
    if (this.scope) u.searchParams.set('scope', this.scope);
    const headers: Record<string, string> = { 'User-Agent': 'berthd' };
    const basic = this.basic();
    if (basic) headers.Authorization = basic;
    let res: Response;
    try {
      res = await fetchRetry(u.toString(), { headers });
    } catch (err) {
      throw new UnavailableError(`token server ${u.host} is unreachable: ${(err as Error).message}`);
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new UnauthorizedError(`${this.name}: the token server refused the credentials (${res.status}): run docker login ${this.domain}`);
    }
    if (!res.ok) throw new UnavailableError(`token server ${u.host} answered ${res.status}`);
    const body = (await res.json()) as { token?: string; access_token?: string };
    const tok = body.token ?? body.access_token;
    if (!tok) throw new UnauthorizedError(`token server ${u.host} gave no token`);
    return `Bearer ${tok}`;
  }

  async getManifest(reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const res = await this.request('GET', `/v2/${this.path}/manifests/${reference}`, { headers: { Accept: MANIFEST_ACCEPT }, signal });
    // dockerd's wording (clients map these to "image not found"): its message, then the registry's.
    if (res.status === 404) {
      const err = await registryError(res);
      if (err.code === 'NAME_UNKNOWN') throw new NotFoundError(`repository ${this.name} not found: name unknown: ${err.message || 'repository name not known to registry'}`);
      throw new NotFoundError(`manifest for ${this.name}${reference.startsWith('sha256:') ? '@' : ':'}${reference} not found: manifest unknown: ${err.message || 'manifest unknown'}`);
    }
    if (res.status === 403) {
      const err = await registryError(res);
      throw new NotFoundError(`pull access denied for ${this.name}, repository does not exist or may require 'docker login': denied: ${err.message || 'requested access to the resource is denied'}`);
    }
    if (!res.ok) throw new UnavailableError(`registry ${this.domain}: manifest ${reference} answered ${res.status} ${await errorText(res)}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    const mediaType = sniffMediaType(res.headers.get('content-type'), bytes);
    if (SCHEMA1.includes(mediaType)) {
      throw new InvalidArgumentError(`${this.name}:${reference} uses image manifest schema 1, which is not supported: push it again with a current client (schema 2 or OCI)`);
    }
    return { mediaType, digest: res.headers.get('docker-content-digest') ?? undefined, bytes };
  }

  async getBlob(digest: string, signal?: AbortSignal): Promise<{ stream: Readable; size?: number }> {
    const res = await this.request('GET', `/v2/${this.path}/blobs/${digest}`, { signal });
    if (res.status === 404) throw new NotFoundError(`blob ${digest} of ${this.name} not found`);
    if (!res.ok || !res.body) throw new UnavailableError(`registry ${this.domain}: blob ${digest} answered ${res.status}`);
    const len = res.headers.get('content-length');
    return { stream: Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), size: len ? Number(len) : undefined };
  }

  async blobExists(digest: string): Promise<boolean> {
    const res = await this.request('HEAD', `/v2/${this.path}/blobs/${digest}`, {});
    await res.body?.cancel();
    return res.ok;
  }

  /** Cross-repository mount; true when the registry mounted it (201). */
  async mountBlob(digest: string, fromPath: string): Promise<boolean> {
    const res = await this.request('POST', `/v2/${this.path}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(fromPath)}`, {
      headers: { 'Content-Length': '0' },
    });
    await res.body?.cancel();
    if (res.status === 201) return true;
    if (res.status === 202) {
      // Mount refused, an upload session was opened instead: cancel it.
      const loc = res.headers.get('location');
      if (loc) {
        const d = await this.request('DELETE', '', { absolute: this.resolveUrl(loc) }).catch(() => undefined);
        await d?.body?.cancel();
      }
    }
    return false;
  }

  private lastBase(): string {
    return this.client.bases_(this.domain, true)[0];
  }

  private resolveUrl(location: string): string {
    return new URL(location, this.lastBase()).toString();
  }

  /** Chunked upload: POST, PATCH per chunk, PUT with the digest. */
  async uploadBlob(chunks: AsyncIterable<Buffer>, digest: string, onProgress?: (n: number) => void): Promise<void> {
    let res = await this.request('POST', `/v2/${this.path}/blobs/uploads/`, { headers: { 'Content-Length': '0' } });
    if (res.status !== 202) throw new UnavailableError(`registry ${this.domain}: starting upload of ${digest} answered ${res.status} ${await errorText(res)}`);
    await res.body?.cancel();
    let location = this.resolveUrl(res.headers.get('location') ?? '');
    let offset = 0;
    for await (const chunk of chunks) {
      res = await this.request('PATCH', '', {
        absolute: location,
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${offset + chunk.length - 1}`, 'Content-Length': String(chunk.length) },
        body: chunk,
      });
      if (res.status !== 202) throw new UnavailableError(`registry ${this.domain}: uploading ${digest} answered ${res.status} ${await errorText(res)}`);
      await res.body?.cancel();
      offset += chunk.length;
      onProgress?.(offset);
      location = this.resolveUrl(res.headers.get('location') ?? location);
    }
    const put = new URL(location);
    put.searchParams.set('digest', digest);
    res = await this.request('PUT', '', { absolute: put.toString(), headers: { 'Content-Length': '0' } });
    if (res.status !== 201) throw new UnavailableError(`registry ${this.domain}: completing upload of ${digest} answered ${res.status} ${await errorText(res)}`);
    await res.body?.cancel();
  }

  async putManifest(reference: string, mediaType: string, bytes: Buffer): Promise<void> {
    const res = await this.request('PUT', `/v2/${this.path}/manifests/${reference}`, { headers: { 'Content-Type': mediaType }, body: bytes });
    if (res.status === 401 || res.status === 403) throw new UnauthorizedError(`push to ${this.name} denied: ${await errorText(res)}`);
    if (res.status !== 201) throw new ConflictError(`registry ${this.domain}: manifest ${reference} refused (${res.status}): ${await errorText(res)}`);
    await res.body?.cancel();
  }
}

function isTransient(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504 || status === 500;
}

async function fetchRetry(url: string, init: RequestInit): Promise<Response> {
  let last: unknown;
  for (let attempt = 0; attempt < RETRIES; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
    try {
      const res = await fetch(url, { ...init, redirect: 'follow' });
      if (isTransient(res.status) && attempt < RETRIES - 1 && !(init.body instanceof ReadableStream)) {
        await res.body?.cancel();
        last = new Error(`${res.status} ${res.statusText}`);
        continue;
      }
      return res;
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      last = err;
      // A refused connection, a name that does not resolve or a connect that timed out
      // (already 10 s) is not worth a retry: fall through to the next endpoint at once.
      const code = (err as { cause?: { code?: string } }).cause?.code;
      if (code && NOT_RETRIED.has(code)) throw err;
    }
  }
  throw last;
}

export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const scheme = m[1].toLowerCase();
  if (scheme !== 'bearer' && scheme !== 'basic') return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2].matchAll(/(\w+)="([^"]*)"/g)) params[p[1]] = p[2];
  return { scheme, params };
}

async function registryError(res: Response): Promise<{ code?: string; message?: string }> {
  try {
    const body = (await res.json()) as { errors?: Array<{ code?: string; message?: string }> };
    return { code: body.errors?.[0]?.code, message: body.errors?.[0]?.message };
  } catch {
    return {};
  }
}

async function errorText(res: Response): Promise<string> {
  try {
    const text = await res.text();
    try {
      const body = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
      if (body.errors?.length) return body.errors.map((e) => `${e.code}: ${e.message}`).join('; ');
    } catch {
      // Not JSON: use the text.
    }
    return text.trim().slice(0, 200);
  } catch {
    return '';
  }
}

function inCidr(ip: string, cidr: string): boolean {
  const [net, bitsS] = cidr.split('/');
  const bits = Number(bitsS);
  if (isIP(net) !== 4 || !(bits >= 0 && bits <= 32)) return false;
  const toInt = (s: string) => s.split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (toInt(ip) & mask) === (toInt(net) & mask);
}
