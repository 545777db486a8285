import { X509Certificate } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { connect, createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';

/**
 * A minimal Docker Engine API client over mutual TLS (what the CLI needs to check a
 * machine: /_ping and /version). It verifies the server against the CA and the
 * host's IP or name, exactly as the docker CLI would.
 */
export interface TlsMaterial {
  ca: string;
  cert: string;
  key: string;
  /** Where the last TLS session with this engine is kept between commands (see engineGet). */
  sessionFile?: string;
  /** That session, as `HOST:PORT` and the session's bytes. */
  session?: { target: string; data: Buffer };
}

export async function loadTlsMaterial(dir: { ca: string; cert: string; key: string; session?: string }): Promise<TlsMaterial> {
  // Synchronous reads: four small local files cost less so than as four promises (ls reads them per machine).
  const [ca, cert, key] = [readFileSync(dir.ca, 'utf8'), readFileSync(dir.cert, 'utf8'), readFileSync(dir.key, 'utf8')];
  let saved = '';
  try {
    if (dir.session) saved = readFileSync(dir.session, 'utf8');
  } catch { /* no session yet */ }
  const nl = saved.indexOf('\n');
  const session = nl > 0 ? { target: saved.slice(0, nl), data: Buffer.from(saved.slice(nl + 1), 'base64') } : undefined;
  return { ca, cert, key, sessionFile: dir.session, session };
}

// Machines of one store share their CA and client cert: parsing the PEMs and building
// the CA store once, not per request, keeps `machine ls` over many machines fast.
const contexts = new Map<string, SecureContext>();

function secureContextOf(tls: TlsMaterial): SecureContext {
  const key = `${tls.ca}\0${tls.cert}\0${tls.key}`;
  let ctx = contexts.get(key);
  if (!ctx) {
    ctx = createSecureContext({ ca: tls.ca, cert: tls.cert, key: tls.key });
    contexts.set(key, ctx);
  }
  return ctx;
}

/**
 * Keeps the session ticket the engine sends, for the next command: a resumed TLS 1.3
 * session (PSK with a fresh key exchange) skips both certificate signatures and the
 * chain check, half the CPU of a handshake. An engine that restarted since, or a ticket
 * that expired, just makes a full handshake. The file is as secret as key.pem (0600).
 */
function keepSession(socket: TLSSocket, file: string, target: string): void {
  let saved = false;
  socket.on('session', (data: Buffer) => {
    if (saved) return; // TLS 1.3 servers send two tickets: one is enough
    saved = true;
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, `${target}\n${data.toString('base64')}`, { mode: 0o600 });
      renameSync(tmp, file);
    } catch {
      rmSync(tmp, { force: true }); // a read-only store only loses the shortcut
    }
  });
}

export function engineGet(host: string, port: number, path: string, tls: TlsMaterial, timeoutMs: number): Promise<{ status: number; body: string }> {
  return engineRequest(host, port, 'GET', path, tls, timeoutMs);
}

/**
 * One engine API call over mTLS with an optional JSON body; the whole answer as text.
 * A TLS connection of its own and HTTP/1.0 (the engine answers without chunking and
 * closes): lighter than node:https's client for the one request a command makes per
 * engine, which counts when `ls` asks twenty.
 */
export function engineRequest(host: string, port: number, method: string, path: string, tls: TlsMaterial, timeoutMs: number, body?: unknown): Promise<{ status: number; body: string }> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const target = `${host}:${port}`;
    const session = tls.session?.target === target ? tls.session.data : undefined;
    // SNI and the identity check by name, as node:https does (an IP is checked as an IP).
    const socket = connect({ host, port, servername: isIP(host) ? undefined : host, secureContext: secureContextOf(tls), session });
    if (tls.sessionFile) keepSession(socket, tls.sessionFile, target);
    const chunks: Buffer[] = [];
    let failed = false;
    const fail = (err: Error) => { failed = true; socket.destroy(); reject(err); };
    socket.setTimeout(timeoutMs, () => fail(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`)));
    const head = `${method} ${path} HTTP/1.0\r\nHost: ${target}\r\n${payload ? `Content-Type: application/json\r\nContent-Length: ${payload.length}\r\n` : ''}\r\n`;
    socket.once('secureConnect', () => socket.write(payload ? Buffer.concat([Buffer.from(head), payload]) : head));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err) => { if (!failed) fail(err); });
    socket.on('close', () => {
      if (failed) return;
      const res = parseResponse(Buffer.concat(chunks));
      // A refused client certificate reaches a TLS 1.3 client as a closed socket: said as node:https says it.
      if (!res) reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      else resolve(res);
    });
  });
}

/** Status and body of an HTTP/1.x answer (chunked or not), or undefined if it is not one. */
export function parseResponse(raw: Buffer): { status: number; body: string } | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = raw.subarray(0, end).toString('latin1');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  if (!status) return undefined;
  let body = raw.subarray(end + 4);
  if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head)) {
    const parts: Buffer[] = [];
    for (let i = 0; ;) {
      const nl = body.indexOf('\r\n', i);
      const size = nl < 0 ? 0 : parseInt(body.subarray(i, nl).toString('latin1'), 16);
      if (!size) break;
      parts.push(body.subarray(nl + 2, nl + 2 + size));
      i = nl + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  }
  return { status: Number(status[1]), body: body.toString() };
}

export async function ping(host: string, port: number, tls: TlsMaterial, timeoutMs = 5000): Promise<void> {
  const res = await engineGet(host, port, '/_ping', tls, timeoutMs);
  if (res.status !== 200) throw new Error(`/_ping answered ${res.status}: ${res.body.slice(0, 200)}`);
}

export async function engineVersion(host: string, port: number, tls: TlsMaterial, timeoutMs = 5000): Promise<string> {
  const res = await engineGet(host, port, '/version', tls, timeoutMs);
  if (res.status !== 200) throw new Error(`/version answered ${res.status}`);
  return String(JSON.parse(res.body).Version ?? 'unknown');
}

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/**
 * Why the engine would refuse this client certificate, said before connecting: over
 * TLS 1.3 the engine's refusal reaches the client only as a closed socket.
 */
export function clientCertProblem(tls: TlsMaterial, now = new Date()): string | undefined {
  let cert: X509Certificate, ca: X509Certificate;
  try {
    cert = new X509Certificate(tls.cert);
    ca = new X509Certificate(tls.ca);
  } catch (err) {
    return `the client certificate or CA does not parse: ${(err as Error).message}`;
  }
  if (now < new Date(cert.validFrom)) return `the client certificate is not valid before ${cert.validFrom}`;
  if (now > new Date(cert.validTo)) return `the client certificate expired on ${cert.validTo}`;
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return 'the client certificate was not signed by the machine\'s CA (the CA was regenerated, or the certificate is foreign)';
  const eku = cert.keyUsage;
  if (eku && eku.length && !eku.includes(CLIENT_AUTH)) return 'the client certificate is not for client authentication (extendedKeyUsage lacks clientAuth)';
  return undefined;
}
