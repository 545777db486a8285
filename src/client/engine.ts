import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type ClientRequest, type RequestOptions } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import type { Endpoint } from './endpoint.js';

/**
 * A small Docker Engine API client over node:http (unix socket or TCP, with mutual
 * TLS): JSON requests, streamed responses, hijacked attach/exec streams, and version
 * negotiation through /_ping. Errors from the engine become EngineApiError with the
 * engine's own message.
 */
export const CLIENT_API_VERSION = '1.47';
const MIN_API_VERSION = '1.24';

export class EngineApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export class ConnectError extends Error {}

export interface RequestInit {
  /** An array value repeats the parameter (t=a&t=b). */
  query?: Record<string, string | number | boolean | string[] | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Hijacked {
  socket: Duplex;
  /** application/vnd.docker.multiplexed-stream or …raw-stream. */
  contentType: string;
}

/** node:https (with node:tls and node:crypto under it) costs ~10 ms to load; only TLS endpoints need it. */
function https(): typeof import('node:https') {
  return process.getBuiltinModule('node:https');
}

function compareVersions(a: string, b: string): number {
  const [a1, a2] = a.split('.').map(Number);
  const [b1, b2] = b.split('.').map(Number);
  return a1 - b1 || a2 - b2;
}

export class EngineClient {
  private version: string | undefined;
  private readonly agent: HttpAgent;

  constructor(readonly endpoint: Endpoint, private readonly pinnedVersion = process.env.DOCKER_API_VERSION) {
    const tls = endpoint.kind === 'tcp' ? endpoint.tls : undefined;
    this.agent = tls
      ? new (https().Agent)({ keepAlive: true, ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: tls.verify })
      : new HttpAgent({ keepAlive: true });
  }

  /** Frees pooled connections so the process can exit. */
  close(): void {
    this.agent.destroy();
  }

  /** The negotiated API version: min(ours, the engine's), or DOCKER_API_VERSION. */
  async apiVersion(): Promise<string> {
    if (this.version) return this.version;
    if (this.pinnedVersion) {
      if (!/^\d+\.\d+$/.test(this.pinnedVersion)) throw new ConnectError(`DOCKER_API_VERSION="${this.pinnedVersion}" is not a version like 1.47`);
      return (this.version = this.pinnedVersion);
    }
    const res = await this.send('HEAD', '/_ping', {});
    res.resume();
    const theirs = String(res.headers['api-version'] ?? '');
    if (res.statusCode !== 200 || !/^\d+\.\d+$/.test(theirs)) {
      this.version = CLIENT_API_VERSION;
    } else {
      this.version = compareVersions(theirs, CLIENT_API_VERSION) < 0 ? theirs : CLIENT_API_VERSION;
      if (compareVersions(this.version, MIN_API_VERSION) < 0) throw new ConnectError(`the engine at ${this.endpoint.label} speaks API ${theirs}, older than ${MIN_API_VERSION}`);
    }
    return this.version;
  }

  private options(method: string, path: string, headers: Record<string, string>): RequestOptions {
    const ep = this.endpoint;
    const base: RequestOptions = { method, path, headers: { 'User-Agent': 'berth-client', ...headers }, agent: this.agent };
    return ep.kind === 'unix' ? { ...base, socketPath: ep.path } : { ...base, host: ep.host, port: ep.port };
  }

  private raw(method: string, path: string, headers: Record<string, string>, agent?: false): ClientRequest {
    const opts = this.options(method, path, headers);
    if (agent === false) {
      const tls = this.endpoint.kind === 'tcp' ? this.endpoint.tls : undefined;
      Object.assign(opts, { agent: false }, tls ? { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: tls.verify } : {});
    }
    const useTls = this.endpoint.kind === 'tcp' && !!this.endpoint.tls;
    return useTls ? https().request(opts) : httpRequest(opts);
  }

  private connectError(err: NodeJS.ErrnoException): Error {
    const where = this.endpoint.label;
    if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') return new ConnectError(`cannot connect to the engine at ${where}: is berthd running? (set DOCKER_HOST or -H to another engine)`);
    if (err.code === 'EACCES') return new ConnectError(`permission denied connecting to ${where}: run as root or as a member of the socket's group`);
    return new ConnectError(`cannot connect to the engine at ${where}: ${err.message}`);
  }

  private async url(path: string, query: RequestInit['query']): Promise<string> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined || v === false) continue;
      if (Array.isArray(v)) for (const x of v) params.append(k, x);
      else params.set(k, v === true ? '1' : String(v));
    }
    const qs = params.toString();
    return `/v${await this.apiVersion()}${path}${qs ? `?${qs}` : ''}`;
  }

  private send(method: string, path: string, init: RequestInit, versioned = false): Promise<IncomingMessage> {
    return (async () => {
      const fullPath = versioned ? await this.url(path, init.query) : path;
      const { payload, headers } = encodeBody(init);
      return new Promise<IncomingMessage>((resolve, reject) => {
        const req = this.raw(method, fullPath, headers);
        req.on('response', resolve);
        req.on('error', (err) => reject(this.connectError(err)));
        if (payload && typeof (payload as Readable).pipe === 'function') (payload as Readable).pipe(req);
        else req.end(payload as Buffer | undefined);
      });
    })();
  }

  /** A request whose response is streamed back; non-2xx statuses throw EngineApiError. */
  async stream(method: string, path: string, init: RequestInit = {}): Promise<IncomingMessage> {
    const res = await this.send(method, path, init, true);
    if ((res.statusCode ?? 0) >= 400) throw await errorOf(res);
    return res;
  }

  /** A request answered with JSON (undefined for empty bodies). */
  async json<T = any>(method: string, path: string, init: RequestInit = {}): Promise<T> {
    const res = await this.stream(method, path, init);
    const text = (await readAll(res)).toString('utf8');
    if (!text.trim()) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new EngineApiError(res.statusCode ?? 0, `the engine answered ${method} ${path} with something that is not JSON: ${text.slice(0, 200)}`);
    }
  }

  /** Upgrades the connection (attach, exec start): raw bytes both ways afterwards. */
  async hijack(path: string, init: RequestInit = {}): Promise<Hijacked> {
    const fullPath = await this.url(path, init.query);
    const { payload, headers } = encodeBody(init);
    return new Promise<Hijacked>((resolve, reject) => {
      const req = this.raw('POST', fullPath, { ...headers, Connection: 'Upgrade', Upgrade: 'tcp' }, false);
      req.on('upgrade', (res, socket, head) => {
        if (head.length) socket.unshift(head);
        resolve({ socket, contentType: String(res.headers['content-type'] ?? '') });
      });
      req.on('response', async (res) => {
        if ((res.statusCode ?? 0) >= 400) return reject(await errorOf(res));
        // An engine that does not upgrade writes the stream as the body: read-only.
        resolve({ socket: res as unknown as Duplex, contentType: String(res.headers['content-type'] ?? '') });
      });
      req.on('error', (err) => reject(this.connectError(err)));
      req.end(payload as Buffer | undefined);
    });
  }
}

function encodeBody(init: RequestInit): { payload?: Buffer | Readable; headers: Record<string, string> } {
  const headers = { ...(init.headers ?? {}) };
  if (init.body === undefined) return { headers };
  if (Buffer.isBuffer(init.body)) return { payload: init.body, headers: { 'Content-Length': String(init.body.length), ...headers } };
  if (typeof (init.body as Readable).pipe === 'function') return { payload: init.body as Readable, headers };
  const payload = Buffer.from(JSON.stringify(init.body));
  return { payload, headers: { 'Content-Type': 'application/json', 'Content-Length': String(payload.length), ...headers } };
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function errorOf(res: IncomingMessage): Promise<EngineApiError> {
  const text = (await readAll(res)).toString('utf8');
  let message = text.trim();
  try {
    const parsed = JSON.parse(text);
    if (typeof parsed?.message === 'string') message = parsed.message;
  } catch {
    // Not JSON (a proxy, an old engine): the text itself is the best message.
  }
  return new EngineApiError(res.statusCode ?? 0, message || `the engine answered HTTP ${res.statusCode}`);
}
