import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { projectRoot } from '../../src/common/paths.js';
import { ConflictError } from '../errors.js';
import { log } from '../log.js';
import type { Proto, PortRequest } from './ports.js';

/** A listening host port forwarding to a container port. */
export interface PortProxy { hostPort: number; pid: number; close(): Promise<void> }

/** The native proxy (native/proxy): $BERTH_PROXY, else the one built in native/build. */
export function proxyPath(): string {
  return process.env.BERTH_PROXY || join(projectRoot(), 'native', 'build', 'berth-proxy');
}

/**
 * A published host port is held by a berth-proxy process: berthd binds the port
 * (binding it is how a port gets reserved: a port already in use fails here, before
 * any rule exists) and hands the socket to the proxy as its fd 3, so the proxy runs
 * unprivileged. It serves the host's loopback (and IPv6), which the DNAT rules leave
 * alone; other traffic is DNAT'ed by nft and never reaches it. The proxy's stdin is
 * a pipe from berthd: it exits when berthd does, and restore() starts it again.
 */
export async function openProxy(req: PortRequest, containerIp: string): Promise<PortProxy> {
  const bin = proxyPath();
  if (!existsSync(bin)) throw new Error(`the port proxy ${bin} is missing: build it with \`make -C native\` (or set BERTH_PROXY)`);
  const ports = req.hostPortMin === 0 ? [0] : range(req.hostPortMin, req.hostPortMax);
  let lastErr: unknown;
  for (const port of ports) {
    try {
      return await (req.proto === 'tcp' ? bindTcp : bindUdp)(req.hostIp, port, (fd) => startProxy(bin, req.proto, fd, containerIp, req.containerPort));
    } catch (err) {
      lastErr = err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EADDRINUSE' && code !== 'EACCES') break;
    }
  }
  const what = req.hostPortMin === req.hostPortMax ? `${req.hostPortMin}` : `${req.hostPortMin}-${req.hostPortMax}`;
  const code = (lastErr as NodeJS.ErrnoException)?.code;
  if (code === 'EADDRNOTAVAIL') throw new ConflictError(`cannot publish port ${req.containerPort}/${req.proto}: host address ${req.hostIp} is not an address of this host`, { cause: lastErr });
  if (code !== 'EADDRINUSE' && code !== 'EACCES') throw lastErr;
  throw new ConflictError(`cannot publish port ${req.containerPort}/${req.proto}: host port ${req.hostIp}:${what}/${req.proto} is already in use (choose another with -p HOSTPORT:${req.containerPort})`, { cause: lastErr });
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

type Start = (fd: number) => ChildProcess;

/**
 * The socket's descriptor, for spawn's stdio. Node keeps it on the libuv handle: a
 * server's `_handle`; a dgram socket's state (its `_handle` getter is deprecated, DEP0112).
 */
function fdOf(owner: Server | UdpSocket): number {
  const state = Object.getOwnPropertySymbols(owner).find((s) => s.description === 'state symbol');
  const handle = state ? (owner as unknown as Record<symbol, { handle: { fd: number } }>)[state].handle : (owner as unknown as { _handle: { fd: number } })._handle;
  if (!(handle?.fd >= 0)) throw new Error('cannot hand the host port to the port proxy: this Node.js does not expose the socket\'s descriptor');
  return handle.fd;
}

// The proxy is spawned in the 'listening' callback and Node's socket closed in that
// same tick: the event loop never polls it, so Node never accepts or reads on it.
function bindTcp(hostIp: string, hostPort: number, start: Start): Promise<PortProxy> {
  const server = createServer();
  return new Promise((res, rej) => {
    server.once('error', rej);
    server.listen({ host: hostIp, port: hostPort, exclusive: true, ipv6Only: hostIp.includes(':'), backlog: 511 }, () => {
      server.off('error', rej);
      const port = (server.address() as { port: number }).port;
      try { res(handle(start(fdOf(server)), port)); } catch (err) { rej(err); } finally { server.close(); }
    });
  });
}

function bindUdp(hostIp: string, hostPort: number, start: Start): Promise<PortProxy> {
  // "::" is the IPv6 side only: 0.0.0.0 has its own proxy
  const sock = createSocket(hostIp.includes(':') ? { type: 'udp6', ipv6Only: true } : { type: 'udp4' });
  return new Promise((res, rej) => {
    sock.once('error', rej);
    sock.bind({ address: hostIp, port: hostPort, exclusive: true }, () => {
      sock.off('error', rej);
      const port = sock.address().port;
      try { res(handle(start(fdOf(sock)), port)); } catch (err) { rej(err); } finally { sock.close(); }
    });
  });
}

function startProxy(bin: string, proto: Proto, fd: number, ip: string, port: number): ChildProcess {
  const child = spawn(bin, [proto, ip, String(port)], { stdio: ['pipe', 'ignore', 'inherit', fd] });
  let failure: Error | undefined;
  child.on('error', (err) => { failure ??= err; }); // a failed start is thrown below; a kill of a dead child is no news
  if (child.pid === undefined) throw new Error(`cannot start the port proxy ${bin}: check that it is an executable (make -C native, or BERTH_PROXY)`, { cause: failure });
  return child;
}

function handle(child: ChildProcess, hostPort: number): PortProxy {
  let closing = false;
  const exited = new Promise<void>((res) => child.once('exit', (code, signal) => {
    if (!closing) log.warn(`port proxy ${child.pid} for host port ${hostPort} exited (${signal ?? `code ${code}`}): the port is not served on loopback until the container restarts`);
    res();
  }));
  // berthd's exit must not wait for its proxies: their stdin closing stops them
  child.unref();
  (child.stdin as unknown as { unref(): void }).unref();
  return {
    hostPort,
    pid: child.pid!,
    close: async () => {
      closing = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
