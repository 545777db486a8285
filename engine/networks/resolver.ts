import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { RCODE_NOERROR, RCODE_NXDOMAIN, RCODE_SERVFAIL, TYPE_A, TYPE_AAAA, encodeAnswer, parseQuery } from './dnsmsg.js';

/** What the resolver asks the network service about a query. */
export interface NameLookup {
  /** Addresses (IPv4 and IPv6) of a container name/alias/short ID as seen from the client; null = not a container name. */
  resolve(clientIp: string, name: string): string[] | null;
  /** Servers ("ip" or "ip:port") to forward other names to; empty = answer SERVFAIL (internal networks). */
  upstreams(clientIp: string): string[];
}

const FORWARD_TIMEOUT_MS = 2000;

/**
 * The embedded DNS server of one user network. It listens in the engine's own namespace
 * on the network's gateway address (a random port, UDP and TCP); each container's
 * namespace redirects 127.0.0.11:53 there (see links.ts). So one small server per
 * network serves every container, knows the client by its source address, and can
 * forward to the host's resolvers even when they are on the host's loopback.
 */
export class EmbeddedResolver {
  private constructor(private readonly udp: UdpSocket, private readonly tcp: Server, readonly port: number, private readonly lookup: NameLookup) {}

  static async start(address: string, lookup: NameLookup): Promise<EmbeddedResolver> {
    for (let attempt = 0; ; attempt++) {
      const udp = createSocket('udp4');
      await new Promise<void>((res, rej) => { udp.once('error', rej); udp.bind(0, address, () => { udp.off('error', rej); res(); }); });
      const port = udp.address().port;
      const tcp = createServer();
      try {
        await new Promise<void>((res, rej) => { tcp.once('error', rej); tcp.listen(port, address, () => { tcp.off('error', rej); res(); }); });
      } catch (err) {
        udp.close();
        if (attempt < 5) continue; // the port is free for UDP but not TCP: try another
        throw err;
      }
      const r = new EmbeddedResolver(udp, tcp, port, lookup);
      udp.on('message', (msg, rinfo) => {
        void r.answer(msg, rinfo.address).then((reply) => reply && udp.send(reply, rinfo.port, rinfo.address));
      });
      udp.on('error', () => { /* a failed send to one client is that client's loss */ });
      tcp.on('connection', (sock) => r.serveTcp(sock));
      return r;
    }
  }

  async close(): Promise<void> {
    this.udp.close();
    await new Promise<void>((res) => this.tcp.close(() => res()));
  }

  private serveTcp(sock: Socket): void {
    let buf = Buffer.alloc(0);
    sock.on('error', () => sock.destroy());
    sock.setTimeout(10_000, () => sock.destroy());
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        void this.answer(Buffer.from(msg), sock.remoteAddress?.replace(/^::ffff:/, '') ?? '').then((reply) => {
          if (reply && !sock.destroyed) sock.write(Buffer.concat([Buffer.from([reply.length >> 8, reply.length & 255]), reply]));
        });
      }
    });
  }

  private async answer(msg: Buffer, clientIp: string): Promise<Buffer | null> {
    const query = parseQuery(msg);
    if (!query) return null;
    const name = query.question.name.toLowerCase().replace(/\.$/, '');
    const found = this.lookup.resolve(clientIp, name);
    if (found) {
      // A name without an address of the family asked is an empty answer, never forwarded (dockerd's way).
      const family = query.question.type === TYPE_A ? found.filter((ip) => !ip.includes(':')) : query.question.type === TYPE_AAAA ? found.filter((ip) => ip.includes(':')) : [];
      return encodeAnswer(msg, query, family, RCODE_NOERROR);
    }
    const upstreams = this.lookup.upstreams(clientIp);
    for (const server of upstreams) {
      const reply = await forward(msg, server).catch(() => null);
      if (reply) return reply;
    }
    return encodeAnswer(msg, query, [], upstreams.length ? RCODE_SERVFAIL : RCODE_NXDOMAIN);
  }
}

function forward(msg: Buffer, server: string): Promise<Buffer> {
  const [host, port] = server.split(':');
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    const timer = setTimeout(() => { sock.close(); reject(new Error('timeout')); }, FORWARD_TIMEOUT_MS);
    sock.on('error', (err) => { clearTimeout(timer); sock.close(); reject(err); });
    sock.on('message', (reply) => { clearTimeout(timer); sock.close(); resolve(reply); });
    sock.send(msg, Number(port ?? 53), host);
  });
}
