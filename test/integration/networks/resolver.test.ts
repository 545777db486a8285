/** The embedded resolver over real UDP and TCP sockets on loopback, forwarding to a second one. */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { EmbeddedResolver } from '../../../engine/networks/resolver.js';
import { TYPE_AAAA, encodeQuery, readAnswerAddresses } from '../../../engine/networks/dnsmsg.js';

let upstream: EmbeddedResolver;
let resolver: EmbeddedResolver;
let internal: EmbeddedResolver;

beforeAll(async () => {
  upstream = await EmbeddedResolver.start('127.0.0.1', { resolve: (_c, n) => (n === 'other.example' ? ['10.9.9.9'] : null), upstreams: () => [] });
  resolver = await EmbeddedResolver.start('127.0.0.1', {
    resolve: (client, n) => (n === 'web' && client === '127.0.0.1' ? ['10.0.0.2', '10.0.1.2'] : null),
    upstreams: () => [`127.0.0.1:${upstream.port}`],
  });
  internal = await EmbeddedResolver.start('127.0.0.1', { resolve: () => null, upstreams: () => [] });
});

afterAll(async () => {
  await Promise.all([upstream, resolver, internal].map((r) => r?.close()));
});

function udp(port: number, msg: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => { s.close(); reject(new Error('no answer')); }, 5000);
    s.on('message', (m) => { clearTimeout(timer); s.close(); resolve(m); });
    s.send(msg, port, '127.0.0.1');
  });
}

function tcp(port: number, msg: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => sock.write(Buffer.concat([Buffer.from([msg.length >> 8, msg.length & 255]), msg])));
    let buf = Buffer.alloc(0);
    sock.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) { sock.end(); resolve(buf.subarray(2, 2 + buf.readUInt16BE(0))); }
    });
    sock.on('error', reject);
  });
}

test('container names answer over UDP and TCP, the id is kept, AAAA is empty', async () => {
  const a = await udp(resolver.port, encodeQuery(0x4242, 'WEB.'));
  expect(a.readUInt16BE(0)).toBe(0x4242);
  expect(readAnswerAddresses(a)).toEqual({ rcode: 0, addresses: ['10.0.0.2', '10.0.1.2'] });
  expect(readAnswerAddresses(await tcp(resolver.port, encodeQuery(7, 'web')))).toEqual({ rcode: 0, addresses: ['10.0.0.2', '10.0.1.2'] });
  expect(readAnswerAddresses(await udp(resolver.port, encodeQuery(8, 'web', TYPE_AAAA)))).toEqual({ rcode: 0, addresses: [] });
});

test('other names are forwarded upstream; without upstreams (internal) they do not exist', async () => {
  expect(readAnswerAddresses(await udp(resolver.port, encodeQuery(9, 'other.example'))).addresses).toEqual(['10.9.9.9']);
  expect(readAnswerAddresses(await tcp(resolver.port, encodeQuery(10, 'other.example'))).addresses).toEqual(['10.9.9.9']);
  expect(readAnswerAddresses(await udp(internal.port, encodeQuery(11, 'other.example'))).rcode).toBe(3);
});

test('garbage gets no answer and breaks nothing', async () => {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.send(Buffer.from([1, 2, 3]), resolver.port, '127.0.0.1', () => r()));
  s.close();
  expect(readAnswerAddresses(await udp(resolver.port, encodeQuery(12, 'web'))).addresses).toHaveLength(2);
});
