/**
 * The API's tiny router over node:http. Routes are registered per method with
 * `:param` segments and greedy `:param+` ones (image names contain `/`):
 *
 *   router.get('/images/:name+/json', async (ctx) => images.inspect(ctx.params.name));
 *
 * Paths match with or without a `/v1.NN` prefix; `ctx.version` is the negotiated
 * version. A handler returns a value (sent as JSON 200), or undefined after
 * answering itself (ctx.json, ctx.stream, ctx.hijack, ctx.res); undefined with
 * nothing sent answers 204. A thrown engine error becomes `{"message"}` with the
 * status from errors.ts; once a progress stream has begun, it becomes a final
 * `{"errorDetail":{"message"},"error"}` line instead.
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import type { Socket } from 'node:net';
import { checkBody } from './shapes.js';
import { InvalidArgumentError, NotFoundError, PayloadTooLargeError } from '../errors.js';
import { log } from '../log.js';
import { now, traceRecord, tracing } from '../trace.js';
import { canonicalizeBody } from './body.js';
import { errorMessageOf, httpStatusOf } from './errors.js';
import { outputOnlyDuplex, rawOkResponseHead, readExactFromSocket, upgradeResponseHead } from './hijack.js';
import { compareVersions, splitVersion } from './version.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';

/** Newline-delimited JSON progress (pull, push, load, events). */
export interface JsonStream {
  write(message: unknown): void;
  /** Ends the stream with docker's error line (HTTP 200 was already sent). */
  fail(err: unknown): void;
  end(): void;
}

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Negotiated API version, e.g. "1.47". */
  version: string;
  /** true when version >= v. */
  versionAtLeast(v: string): boolean;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** The body parsed as JSON; undefined when empty. Invalid JSON -> 400. */
  body<T = any>(): Promise<T | undefined>;
  /** The body as a byte stream (tar uploads). */
  raw(): Readable;
  /** Sends `status` with a JSON body. */
  json(status: number, value: unknown): void;
  /** An error as the client may see it (one line, no engine directories). */
  errorText(err: unknown): string;
  /** Starts a 200 application/json NDJSON stream. */
  stream(): JsonStream;
  /**
   * Takes over the connection: answers 101 UPGRADED (when the client asked to
   * upgrade) or a raw 200, with `contentType`, and returns the raw duplex.
   * Read the body first if the endpoint has one.
   */
  hijack(contentType: string): Promise<Duplex>;
}

export type Handler = (ctx: Ctx) => Promise<unknown> | unknown;

interface Route {
  method: Method;
  /** As registered, e.g. /containers/:id/json: names the route for checkBody. */
  pattern: string;
  segments: string[];
  handler: Handler;
}

export interface RouterOptions {
  /** Largest JSON request body accepted (bytes); larger ones are refused with 413 unread. */
  maxJsonBody?: number;
  /** Host directories never shown in error messages (data-root, exec-root). */
  hiddenPaths?: string[];
}

export const DEFAULT_MAX_JSON_BODY = 10 << 20;

export class Router {
  private readonly routes: Route[] = [];
  private readonly maxJsonBody: number;
  private readonly hiddenPaths: string[];
  /** Taken-over connections: server.close() does not know them, shutdown ends them here. */
  private readonly hijacked = new Set<Duplex>();
  /** Requests received so far (the idle collector watches it: engine/idlegc.ts). */
  requests = 0;

  constructor(opts: RouterOptions = {}) {
    this.maxJsonBody = opts.maxJsonBody ?? DEFAULT_MAX_JSON_BODY;
    this.hiddenPaths = opts.hiddenPaths ?? [];
  }

  get(path: string, h: Handler): this { return this.add('GET', path, h); }
  post(path: string, h: Handler): this { return this.add('POST', path, h); }
  put(path: string, h: Handler): this { return this.add('PUT', path, h); }
  delete(path: string, h: Handler): this { return this.add('DELETE', path, h); }
  head(path: string, h: Handler): this { return this.add('HEAD', path, h); }

  add(method: Method, path: string, handler: Handler): this {
    this.routes.push({ method, pattern: path, segments: path.split('/').filter(Boolean), handler });
    return this;
  }

  /** Ends every hijacked connection (attach, exec): the engine is stopping; containers keep running. */
  closeHijacked(): void {
    for (const s of this.hijacked) s.destroy();
    this.hijacked.clear();
  }

  private track(socket: Duplex): void {
    this.hijacked.add(socket);
    socket.once('close', () => this.hijacked.delete(socket));
  }

  /** Handler for the server's 'request' event. */
  handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.requests++;
    void this.dispatch(req, res, undefined);
  };

  /** Handler for the server's 'upgrade' event (hijack-capable requests). */
  handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    this.requests++;
    const res = new ServerResponse(req);
    res.assignSocket(socket as Socket);
    res.shouldKeepAlive = false;
    res.on('finish', () => socket.end());
    void this.dispatch(req, res, { socket, head });
  };

  private match(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
    const parts = path.split('/').filter(Boolean).map(decodeSegment);
    const want = method === 'HEAD' ? ['HEAD', 'GET'] : [method];
    for (const m of want) {
      for (const route of this.routes) {
        if (route.method !== m) continue;
        const params: Record<string, string> = {};
        if (matchSegments(route.segments, 0, parts, 0, params)) return { route, params };
      }
    }
    return undefined;
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse, upgrade: { socket: Duplex; head: Buffer } | undefined): Promise<void> {
    const t0 = tracing ? now() : 0;
    const url = new URL(req.url ?? '/', 'http://berthd');
    const abort = new AbortController();
    const onClose = () => abort.abort();
    res.on('close', onClose);
    let streaming: JsonStream | undefined;
    let hijacked = false;
    log.debug(`${req.method} ${url.pathname}${url.search}`);
    try {
      const { version, rest } = splitVersion(url.pathname);
      const found = this.match(req.method ?? 'GET', rest);
      if (!found) throw new NotFoundError(`page not found: ${req.method} ${url.pathname}`);
      let bodyRead = false;
      const limit = this.maxJsonBody;
      const tooLarge = () => new PayloadTooLargeError(`request body is larger than ${limit} bytes: the limit is berthd's --max-request-body`);
      const readBody = async (): Promise<Buffer> => {
        if (bodyRead) throw new Error('request body read twice');
        bodyRead = true;
        const declared = Number(req.headers['content-length'] ?? 0);
        if (declared > limit) throw tooLarge();
        if (upgrade) {
          return declared > 0 ? readExactFromSocket(upgrade.socket, upgrade.head, declared) : Buffer.alloc(0);
        }
        const chunks: Buffer[] = [];
        let have = 0;
        for await (const c of req) {
          have += (c as Buffer).length;
          if (have > limit) throw tooLarge();
          chunks.push(c as Buffer);
        }
        return Buffer.concat(chunks);
      };
      const ctx: Ctx = {
        req,
        res,
        params: found.params,
        query: url.searchParams,
        version,
        versionAtLeast: (v) => compareVersions(version, v) >= 0,
        signal: abort.signal,
        body: async () => {
          const buf = await readBody();
          checkJsonContentType(req.headers['content-type'], buf.length);
          if (buf.length === 0) return undefined;
          let parsed: unknown;
          try {
            parsed = JSON.parse(buf.toString('utf8'));
          } catch (err) {
            throw new InvalidArgumentError(`invalid JSON: ${(err as Error).message}`);
          }
          const value = canonicalizeBody(parsed) as any;
          checkBody(`${found.route.method} ${found.route.pattern}`, value);
          return value;
        },
        raw: () => {
          if (bodyRead) throw new Error('request body read twice');
          bodyRead = true;
          if (upgrade) {
            if (upgrade.head.length) upgrade.socket.unshift(upgrade.head);
            return upgrade.socket;
          }
          return req;
        },
        json: (status, value) => sendJson(res, status, value),
        errorText: (err) => errorMessageOf(err, this.hiddenPaths),
        stream: () => {
          streaming = startJsonStream(res, this.hiddenPaths);
          return streaming;
        },
        hijack: async (contentType) => {
          hijacked = true;
          res.off('close', onClose);
          if (upgrade) {
            if (!bodyRead && upgrade.head.length) upgrade.socket.unshift(upgrade.head);
            upgrade.socket.write(upgradeResponseHead(contentType));
            upgrade.socket.on('close', onClose);
            this.track(upgrade.socket);
            return upgrade.socket;
          }
          const socket = req.socket;
          res.detachSocket(socket);
          socket.write(rawOkResponseHead(contentType));
          socket.on('close', onClose);
          this.track(socket);
          return outputOnlyDuplex(socket, req);
        },
      };
      const result = await found.route.handler(ctx);
      if (tracing) traceRecord(`api ${req.method} /${found.route.segments.join('/')}`, found.params.id ?? found.params.name ?? '', t0);
      if (hijacked) return;
      if (streaming) {
        if (!res.writableEnded) streaming.end();
        return;
      }
      if (res.headersSent || res.writableEnded) return;
      if (result === undefined) {
        res.writeHead(204);
        res.end();
      } else {
        sendJson(res, 200, result);
      }
    } catch (err) {
      const status = httpStatusOf(err);
      const message = errorMessageOf(err, this.hiddenPaths);
      if (status >= 500) log.error(`${req.method} ${url.pathname}: ${err instanceof Error && err.stack ? err.stack : message}`);
      else log.debug(`${req.method} ${url.pathname}: ${status} ${message}`);
      if (hijacked) {
        (upgrade?.socket ?? req.socket).destroy();
      } else if (streaming) {
        streaming.fail(err);
      } else if (!res.headersSent) {
        // An unread oversized body is not drained: the connection ends with the answer.
        if (status === 413) res.shouldKeepAlive = false;
        sendJson(res, status, { message });
      } else {
        res.destroy();
      }
    }
  }
}

/** dockerd's CheckForJSON: a body must say it is JSON; no Content-Type is fine only without one. */
function checkJsonContentType(contentType: string | undefined, length: number): void {
  if (!contentType && length === 0) return;
  const mime = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (mime !== 'application/json') {
    throw new InvalidArgumentError(`unsupported Content-Type header (${contentType ?? ''}): must be 'application/json'`);
  }
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new InvalidArgumentError(`malformed URL segment ${s}`);
  }
}

function matchSegments(pattern: string[], pi: number, parts: string[], si: number, params: Record<string, string>): boolean {
  if (pi === pattern.length) return si === parts.length;
  const seg = pattern[pi];
  if (seg.startsWith(':') && seg.endsWith('+')) {
    const name = seg.slice(1, -1);
    // Greedy but backtracking: the longest run that lets the rest match.
    for (let end = parts.length; end > si; end--) {
      if (matchSegments(pattern, pi + 1, parts, end, params)) {
        params[name] = parts.slice(si, end).join('/');
        return true;
      }
    }
    return false;
  }
  if (si >= parts.length) return false;
  if (seg.startsWith(':')) {
    if (!matchSegments(pattern, pi + 1, parts, si + 1, params)) return false;
    params[seg.slice(1)] = parts[si];
    return true;
  }
  return seg === parts[si] && matchSegments(pattern, pi + 1, parts, si + 1, params);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function startJsonStream(res: ServerResponse, hiddenPaths: string[]): JsonStream {
  if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json' });
  let ended = false;
  return {
    write: (m) => {
      if (!ended && !res.writableEnded) res.write(JSON.stringify(m) + '\n');
    },
    fail: (err) => {
      if (ended || res.writableEnded) return;
      const message = errorMessageOf(err, hiddenPaths);
      res.write(JSON.stringify({ errorDetail: { message }, error: message }) + '\n');
      ended = true;
      res.end();
    },
    end: () => {
      if (ended) return;
      ended = true;
      res.end();
    },
  };
}
