/**
 * Listeners for every -H address: unix sockets, TCP (plain or TLS, with client
 * certificate verification under --tlsverify) and systemd's fd://.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import type { DaemonConfig } from '../config.js';
import { InvalidArgumentError, UnavailableError } from '../errors.js';
import { log } from '../log.js';
import type { Router } from './router.js';

export interface Listener {
  address: string;
  close(): Promise<void>;
}

export async function listenAll(config: DaemonConfig, router: Router): Promise<Listener[]> {
  const listeners: Listener[] = [];
  try {
    for (const host of config.hosts) {
      if (host.startsWith('fd://')) listeners.push(...(await listenFds(host, config, router)));
      else listeners.push(await listenOne(host, config, router));
    }
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()));
    throw err;
  }
  return listeners;
}

function makeServer(tls: boolean, config: DaemonConfig, router: Router): Server {
  let server: Server;
  if (tls) {
    const read = (what: string, path: string | undefined) => {
      if (!path) throw new InvalidArgumentError(`TLS needs --${what}`);
      try {
        return readFileSync(path);
      } catch (err) {
        throw new InvalidArgumentError(`--${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    };
    server = createHttpsServer({
      cert: read('tlscert', config.tlsCert),
      key: read('tlskey', config.tlsKey),
      ...(config.tlsVerify ? { ca: read('tlscacert', config.tlsCaCert), requestCert: true, rejectUnauthorized: true } : {}),
      minVersion: 'TLSv1.2',
      // The docker CLI half-closes a hijacked stream (TLS close_notify) when stdin ends: keep
      // sending output; without this Node ends the TLS socket and attach output is lost.
      allowHalfOpen: true,
    }) as unknown as Server;
  } else {
    server = createHttpServer();
  }
  server.on('request', router.handle);
  server.on('upgrade', router.handleUpgrade);
  // Pulls, loads and event streams run long: no whole-request deadline.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 30_000;
  return server;
}

function closer(server: Server, router: Router, after?: () => void): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => {
        after?.();
        resolve();
      });
      server.closeAllConnections();
      // Attach and exec streams are no longer the server's: without this, stop waits for them.
      router.closeHijacked();
    });
}

async function listenOne(host: string, config: DaemonConfig, router: Router): Promise<Listener> {
  if (host.startsWith('unix://')) {
    const path = host.slice('unix://'.length);
    mkdirSync(dirname(path), { recursive: true });
    if (existsSync(path)) {
      if (await socketAnswers(path)) throw new UnavailableError(`${path} is in use by another process: stop it or choose another -H`);
      unlinkSync(path);
    }
    const server = makeServer(false, config, router);
    await listen(server, { path }, host);
    chmodSync(path, 0o660);
    return { address: host, close: closer(server, router, () => rmQuiet(path)) };
  }
  const m = /^tcp:\/\/(?:\[([^\]]+)\]|([^:/]*)):(\d+)$/.exec(host)!;
  const addr = m[1] ?? (m[2] || '0.0.0.0');
  const port = Number(m[3]);
  if (!config.tls && !isLoopback(addr)) {
    log.warn(`Binding to ${host} without TLS: anyone who can reach it has root on this host. Use --tlsverify with --tlscacert, --tlscert, --tlskey.`);
  }
  const server = makeServer(config.tls, config, router);
  await listen(server, { host: addr, port }, host);
  const bound = server.address();
  const actual = typeof bound === 'object' && bound ? `tcp://${addr.includes(':') ? `[${addr}]` : addr}:${bound.port}` : host;
  return { address: actual, close: closer(server, router) };
}

async function listenFds(host: string, config: DaemonConfig, router: Router): Promise<Listener[]> {
  const count = Number(process.env.LISTEN_FDS ?? 0);
  if (process.env.LISTEN_PID && Number(process.env.LISTEN_PID) !== process.pid) {
    throw new InvalidArgumentError(`${host}: LISTEN_PID is not this process (started outside systemd socket activation?)`);
  }
  const all = Array.from({ length: count }, (_, i) => 3 + i);
  const wanted = host === 'fd://' ? all : [Number(host.slice('fd://'.length))];
  if (wanted.length === 0 || wanted.some((fd) => !all.includes(fd))) {
    throw new InvalidArgumentError(`${host}: no such socket-activated file descriptor (LISTEN_FDS=${count})`);
  }
  const out: Listener[] = [];
  for (const fd of wanted) {
    const server = makeServer(false, config, router);
    await listen(server, { fd }, `fd://${fd}`);
    out.push({ address: `fd://${fd}`, close: closer(server, router) });
  }
  return out;
}

function listen(server: Server, opts: { path?: string; host?: string; port?: number; fd?: number }, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(new UnavailableError(`cannot listen on ${what}: ${err.code ?? err.message}`));
    server.once('error', onError);
    server.listen(opts, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function isLoopback(addr: string): boolean {
  return addr === 'localhost' || addr === '::1' || addr.startsWith('127.');
}

function rmQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to clean.
  }
}
