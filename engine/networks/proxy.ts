import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server } from 'node:net';
import { ConflictError } from '../errors.js';
import type { PortRequest } from './ports.js';

/** A listening host port forwarding to a container port. */
export interface PortProxy { hostPort: number; close(): Promise<void> }

const UDP_IDLE_MS = 30_000;

/**
 * The userland proxy holds each published host port: binding it is how a port gets
 * reserved (a port already in use fails here, before any rule exists), and it serves
 * the host's loopback, which the DNAT rules leave alone. Other traffic is DNAT'ed by
 * nft and never reaches the proxy.
 */
export async function openProxy(req: PortRequest, containerIp: string): Promise<PortProxy> {
  const ports = req.hostPortMin === 0 ? [0] : range(req.hostPortMin, req.hostPortMax);
  let lastErr: unknown;
  for (const port of ports) {
    try {
      return req.proto === 'tcp' ? await tcpProxy(req.hostIp, port, containerIp, req.containerPort) : await udpProxy(req.hostIp, port, containerIp, req.containerPort);
    } catch (err) {
      lastErr = err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EADDRINUSE' && code !== 'EACCES') break;
    }
  }
  const what = req.hostPortMin === req.hostPortMax ? `${req.hostPortMin}` : `${req.hostPortMin}-${req.hostPortMax}`;
  const code = (lastErr as NodeJS.ErrnoException)?.code;
  if (code === 'EADDRNOTAVAIL') throw new ConflictError(`cannot publish port ${req.containerPort}/${req.proto}: host address ${req.hostIp} is not an address of this host`, { cause: lastErr });
  throw new ConflictError(`cannot publish port ${req.containerPort}/${req.proto}: host port ${req.hostIp}:${what}/${req.proto} is already in use (choose another with -p HOSTPORT:${req.containerPort})`, { cause: lastErr });
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

async function tcpProxy(hostIp: string, hostPort: number, ip: string, port: number): Promise<PortProxy> {
  // No Nagle on either leg (as docker-proxy, Go's default): a reply written in pieces
  // would otherwise wait for the client's delayed ACK at each hop.
  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const upstream = connect({ host: ip, port, allowHalfOpen: true, noDelay: true });
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => { client.destroy(); upstream.destroy(); };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', () => upstream.end());
    upstream.on('close', () => client.end());
  });
  await new Promise<void>((res, rej) => { server.once('error', rej); server.listen({ host: hostIp, port: hostPort, exclusive: true, ipv6Only: hostIp.includes(':') }, () => { server.off('error', rej); res(); }); });
  return {
    hostPort: (server.address() as { port: number }).port,
    close: () => new Promise<void>((res) => { server.close(() => res()); (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.(); }),
  };
}

async function udpProxy(hostIp: string, hostPort: number, ip: string, port: number): Promise<PortProxy> {
  // "::" is the IPv6 side only: 0.0.0.0 has its own proxy
  const sock = createSocket(hostIp.includes(':') ? { type: 'udp6', ipv6Only: true } : { type: 'udp4' });
  await new Promise<void>((res, rej) => { sock.once('error', rej); sock.bind({ address: hostIp, port: hostPort, exclusive: true }, () => { sock.off('error', rej); res(); }); });
  const flows = new Map<string, { up: UdpSocket; timer: NodeJS.Timeout }>();
  sock.on('message', (msg, rinfo) => {
    const key = `${rinfo.address}:${rinfo.port}`;
    let flow = flows.get(key);
    if (!flow) {
      const up = createSocket(ip.includes(':') ? 'udp6' : 'udp4');
      up.on('message', (reply) => sock.send(reply, rinfo.port, rinfo.address));
      up.on('error', () => undefined);
      flow = { up, timer: setTimeout(() => undefined, 0) };
      flows.set(key, flow);
    }
    clearTimeout(flow.timer);
    const f = flow;
    f.timer = setTimeout(() => { f.up.close(); flows.delete(key); }, UDP_IDLE_MS);
    f.timer.unref();
    f.up.send(msg, port, ip);
  });
  sock.on('error', () => undefined);
  return {
    hostPort: sock.address().port,
    close: async () => {
      for (const f of flows.values()) { clearTimeout(f.timer); f.up.close(); }
      flows.clear();
      sock.close();
    },
  };
}
