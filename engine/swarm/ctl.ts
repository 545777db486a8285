/**
 * The control port (docker's 2377) of every node: HTTPS with the node certificate.
 * The first three are answered by managers only.
 *   GET  /ca                the CA certificate (a joining node checks its digest
 *                           against the token before it trusts anything else)
 *   POST /join              {token, addr, hostname, ...} -> node id, certificates,
 *                           etcd endpoints (managers: etcd MemberAdd first)
 *   GET  /secrets/:id       (client certificate of a node) a secret's value, only
 *                           for a node that has a task using it
 *   POST /tasks/:id/status  (client certificate of a node) {value, version}: the status
 *                           of a task assigned to that node, written compare-and-set
 *   POST /renew             (client certificate of a node) a new certificate for the
 *                           role its node record has now: promote (etcd MemberAdd,
 *                           CA and data keys) or demote (MemberRemove)
 *   GET  /logs/:task        (client certificate of a manager) the framed log of this
 *                           node's container of a task (see logs.ts)
 * joinVia() is the client side of /join.
 */
import { createServer, request, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { InvalidArgumentError, UnavailableError, isEngineError } from '../errors.js';
import { httpStatusOf } from '../api/errors.js';
import { log } from '../log.js';
import { caDigest, certIdentity, type NodeRole } from './ca.js';
import { tokenCaDigest } from './tokens.js';

export interface JoinRequest {
  token: string;
  addr: string;
  hostname: string;
  availability?: string;
  description?: unknown;
}

export interface JoinResponse {
  nodeId: string;
  clusterId: string;
  role: NodeRole;
  ca: string;
  cert: string;
  key: string;
  caKey?: string;
  dataKey?: string;
  etcdEndpoints: string[];
  initialCluster?: string;
}

export interface CtlHandlers {
  ca(): string;
  join(req: JoinRequest): Promise<JoinResponse>;
  secret(nodeId: string, secretId: string): Promise<Buffer>;
  taskStatus(nodeId: string, taskId: string, req: { value: any; version: number }): Promise<{ version: number }>;
  renew(nodeId: string, req: { listenHost?: string }): Promise<JoinResponse>;
  logs(taskId: string, query: URLSearchParams, signal: AbortSignal): Readable | undefined;
}

export function startCtlServer(addr: string, port: number, tls: { ca: string; cert: string; key: string }, h: CtlHandlers): Promise<Server> {
  const server = createServer({ ca: tls.ca, cert: tls.cert, key: tls.key, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' }, (req, res) => {
    void handle(req, res, h).catch((err) => reply(res, httpStatusOf(err), { message: (err as Error).message }));
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new UnavailableError(`swarm control port ${addr}:${port}: ${(err as Error).message}`)));
    server.listen(port, addr, () => resolve(server));
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, h: CtlHandlers): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://swarm');
  if (req.method === 'GET' && url.pathname === '/ca') return reply(res, 200, { ca: h.ca() });
  if (req.method === 'POST' && url.pathname === '/join') return reply(res, 200, await h.join(await jsonBody(req, 'join')));
  const sock = req.socket as TLSSocket;
  const who = sock.authorized ? certIdentity(sock.getPeerCertificate().subject as never) : undefined;
  const tm = /^\/tasks\/([^/]+)\/status$/.exec(url.pathname);
  if (req.method === 'POST' && tm) {
    if (!who) return reply(res, 401, { message: 'a node certificate of this swarm is required' });
    return reply(res, 200, await h.taskStatus(who.nodeId, decodeURIComponent(tm[1]), await jsonBody(req, 'task status')));
  }
  if (req.method === 'POST' && url.pathname === '/renew') {
    if (!who) return reply(res, 401, { message: 'a node certificate of this swarm is required' });
    return reply(res, 200, await h.renew(who.nodeId, await jsonBody(req, 'renew')));
  }
  const m = /^\/secrets\/([^/]+)$/.exec(url.pathname);
  if (req.method === 'GET' && m) {
    if (!who) return reply(res, 401, { message: 'a node certificate of this swarm is required' });
    return reply(res, 200, { data: (await h.secret(who.nodeId, m[1])).toString('base64') });
  }
  const lm = /^\/logs\/([^/]+)$/.exec(url.pathname);
  if (req.method === 'GET' && lm) {
    if (who?.role !== 'manager') return reply(res, 403, { message: 'task logs are for the managers of this swarm (a manager\'s node certificate is required)' });
    const ac = new AbortController();
    res.on('close', () => ac.abort());
    const stream = h.logs(decodeURIComponent(lm[1]), url.searchParams, ac.signal);
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
    if (!stream) return void res.end();
    stream.on('error', () => res.destroy());
    stream.pipe(res);
    return;
  }
  reply(res, 404, { message: 'not found' });
}

async function jsonBody(req: IncomingMessage, what: string): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString() || '{}');
  } catch {
    throw new InvalidArgumentError(`${what}: invalid JSON`);
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.destroy();
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

interface CallOpts { ca?: string; cert?: string; key?: string; body?: unknown; method?: string }

/** One request to a manager's control port; errors name the manager. */
export function ctlCall<T>(remote: string, path: string, o: CallOpts = {}): Promise<T> {
  const { host, port } = splitHostPort(remote, 2377);
  const payload = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
  return new Promise((resolve, reject) => {
    const req = request({
      host, port, path, method: o.method ?? (payload ? 'POST' : 'GET'),
      ca: o.ca, cert: o.cert, key: o.key,
      // before the CA is known (GET /ca) nothing can be verified: the token's digest checks it after
      rejectUnauthorized: Boolean(o.ca),
      // the certificate is checked against the swarm CA; node names are not DNS names
      checkServerIdentity: () => undefined,
      servername: '',
      timeout: 60_000,
      headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {},
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        let json: any;
        try { json = JSON.parse(Buffer.concat(chunks).toString()); } catch { json = {}; }
        if (res.statusCode === 200) resolve(json as T);
        else if (res.statusCode === 400) reject(new InvalidArgumentError(json.message ?? `manager ${remote} refused`));
        else reject(new UnavailableError(`manager ${remote}: ${json.message ?? `HTTP ${res.statusCode}`}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err) => reject(new UnavailableError(`cannot reach the swarm manager at ${remote}: ${err.message}`)));
    req.end(payload);
  });
}

/** Joins through the first manager that answers; checks the CA against the token first. */
export async function joinVia(remotes: string[], req: JoinRequest): Promise<JoinResponse> {
  const want = tokenCaDigest(req.token);
  let last: unknown;
  for (const remote of remotes) {
    try {
      const { ca } = await ctlCall<{ ca: string }>(remote, '/ca');
      if (caDigest(ca) !== want) throw new InvalidArgumentError(`the swarm at ${remote} does not match the join token (its CA digest differs): check the token and the address`);
      return await ctlCall<JoinResponse>(remote, '/join', { ca, body: req });
    } catch (err) {
      if (isEngineError(err) && err.code === 'invalid_argument') throw err;
      log.warn(`swarm join via ${remote}: ${(err as Error).message}`);
      last = err;
    }
  }
  throw last ?? new InvalidArgumentError('swarm join needs at least one manager address (RemoteAddrs)');
}

export function splitHostPort(s: string, defaultPort: number): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)|([0-9a-fA-F:]+))(?::(\d+))?$/.exec(s.trim());
  if (!m) throw new InvalidArgumentError(`invalid address ${s}: expected HOST[:PORT]`);
  return { host: m[1] ?? m[2] ?? m[3], port: m[4] ? Number(m[4]) : defaultPort };
}
