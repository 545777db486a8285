import { X509Certificate } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request, type RequestOptions } from 'node:https';
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';

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
  const [ca, cert, key, saved] = await Promise.all([
    readFile(dir.ca, 'utf8'), readFile(dir.cert, 'utf8'), readFile(dir.key, 'utf8'),
    dir.session ? readFile(dir.session, 'utf8').catch(() => '') : '',
  ]);
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

/** One engine API call over mTLS with an optional JSON body; the whole answer as text. */
export function engineRequest(host: string, port: number, method: string, path: string, tls: TlsMaterial, timeoutMs: number, body?: unknown): Promise<{ status: number; body: string }> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const target = `${host}:${port}`;
    const session = tls.session?.target === target ? tls.session.data : undefined;
    // https passes secureContext and session through to tls.connect; its RequestOptions type omits them.
    const options: RequestOptions & { secureContext: SecureContext; session?: Buffer } = {
      host, port, path, method, secureContext: secureContextOf(tls), session, timeout: timeoutMs, agent: false,
      headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : undefined,
    };
    const req = request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    if (tls.sessionFile) {
      const file = tls.sessionFile;
      req.on('socket', (s) => keepSession(s as TLSSocket, file, target));
    }
    req.on('timeout', () => req.destroy(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
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
