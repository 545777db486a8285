/**
 * The published-port proxy (engine/networks/proxy.ts and native/proxy) on the host's
 * loopback: a local server stands in for the container's port.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type AddressInfo, type Server, connect, createServer } from 'node:net';
import { openProxy, proxyPath } from '../../../engine/networks/proxy.js';
import type { PortRequest } from '../../../engine/networks/ports.js';

const servers: Array<{ close(): unknown }> = [];
afterAll(() => { for (const s of servers) s.close(); });

const tcp = (containerPort: number, hostPort = 0): PortRequest => ({ proto: 'tcp', containerPort, hostIp: '127.0.0.1', hostPortMin: hostPort, hostPortMax: hostPort });

/** A server that reads a connection to its end, then answers with the sha256 of what came and closes. */
async function digestServer(): Promise<number> {
  const server: Server = createServer({ allowHalfOpen: true }, (c) => {
    const h = createHash('sha256');
    c.on('data', (d) => h.update(d));
    c.on('end', () => c.end(h.digest('hex')));
  });
  servers.push(server);
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return (server.address() as AddressInfo).port;
}

/** Sends data to 127.0.0.1:port, half-closes, and returns what came back. */
function exchange(port: number, data: Buffer): Promise<string> {
  return new Promise((res, rej) => {
    const c = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    let got = '';
    c.on('data', (d) => { got += d; });
    c.on('end', () => { c.end(); res(got); });
    c.on('error', rej);
    c.end(data);
  });
}

test('TCP: bytes both ways intact, a half-close passed on; the port is freed and the process gone on close', async () => {
  const port = await digestServer();
  const proxy = await openProxy(tcp(port), '127.0.0.1');
  expect(existsSync(`/proc/${proxy.pid}`)).toBe(true);
  const data = randomBytes(16 << 20);
  const answers = await Promise.all([exchange(proxy.hostPort, data), exchange(proxy.hostPort, data.subarray(0, 1000)), exchange(proxy.hostPort, Buffer.alloc(0))]);
  expect(answers).toEqual([data, data.subarray(0, 1000), Buffer.alloc(0)].map((d) => createHash('sha256').update(d).digest('hex')));

  // the host port is held: a second proxy on it is a clear conflict
  await expect(openProxy(tcp(port, proxy.hostPort), '127.0.0.1')).rejects.toThrow(`host port 127.0.0.1:${proxy.hostPort}/tcp is already in use`);
  await proxy.close();
  expect(existsSync(`/proc/${proxy.pid}`)).toBe(false);
  const again = await openProxy(tcp(port, proxy.hostPort), '127.0.0.1');
  expect(await exchange(again.hostPort, Buffer.from('x'))).toBe(createHash('sha256').update('x').digest('hex'));
  await again.close();
});

test('TCP: an echo streamed both ways at once, with backpressure on each side, comes back intact', async () => {
  const server = createServer((c) => c.pipe(c));
  servers.push(server);
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const proxy = await openProxy(tcp((server.address() as AddressInfo).port), '127.0.0.1');
  const data = randomBytes(32 << 20);
  const back = await new Promise<Buffer>((res, rej) => {
    const c = connect(proxy.hostPort, '127.0.0.1');
    const got: Buffer[] = [];
    let n = 0;
    c.on('data', (d) => {
      got.push(d);
      n += d.length;
      if (n === data.length) { c.end(); res(Buffer.concat(got)); }
    });
    c.on('error', rej);
    c.write(data);
  });
  expect(back.equals(data)).toBe(true);
  await proxy.close();
});

test('TCP: with nothing listening in the container, the client sees its connection closed', async () => {
  const unused = await digestServer();
  servers.pop()!.close();
  const proxy = await openProxy(tcp(unused), '127.0.0.1');
  await new Promise<void>((res) => {
    const c = connect(proxy.hostPort, '127.0.0.1');
    c.on('error', () => undefined);
    c.on('close', () => res());
  });
  await proxy.close();
});

test('UDP: each client gets its own answers', async () => {
  const echo = createSocket('udp4');
  servers.push(echo);
  echo.on('message', (m, r) => echo.send(Buffer.concat([Buffer.from('echo:'), m]), r.port, r.address));
  await new Promise<void>((res) => echo.bind(0, '127.0.0.1', res));
  const proxy = await openProxy({ proto: 'udp', containerPort: echo.address().port, hostIp: '127.0.0.1', hostPortMin: 0, hostPortMax: 0 }, '127.0.0.1');
  const ask = (text: string) => new Promise<string>((res, rej) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => { s.close(); rej(new Error('no UDP answer through the proxy')); }, 3000);
    s.on('message', (m) => { clearTimeout(timer); s.close(); res(m.toString()); });
    s.send(text, proxy.hostPort, '127.0.0.1');
  });
  expect(await Promise.all([ask('a'), ask('b'), ask('c')])).toEqual(['echo:a', 'echo:b', 'echo:c']);
  await proxy.close();
  expect(existsSync(`/proc/${proxy.pid}`)).toBe(false);
});

test('berth-proxy exits when its stdin (the engine) closes, and names what is wrong with its arguments', async () => {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
  const child = spawn(proxyPath(), ['tcp', '127.0.0.1', '1'], { stdio: ['pipe', 'ignore', 'ignore', fd] });
  server.close();
  const exited = new Promise<number | null>((res) => child.once('exit', res));
  child.stdin!.end();
  expect(await exited).toBe(0);

  const bad = spawn(proxyPath(), ['sctp', '127.0.0.1', '80'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let err = '';
  bad.stderr!.on('data', (d) => { err += d; });
  expect(await new Promise((res) => bad.once('close', res))).toBe(2);
  expect(err).toContain('the protocol must be tcp or udp');

  const noSocket = spawn(proxyPath(), ['tcp', '127.0.0.1', '80'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let err2 = '';
  noSocket.stderr!.on('data', (d) => { err2 += d; });
  expect(await new Promise((res) => noSocket.once('close', res))).toBe(2);
  expect(err2).toContain('fd 3 is not a bound tcp socket');
});

test('a missing or broken berth-proxy is a clear error when a port is published, and the port is not left held', async () => {
  const saved = process.env.BERTH_PROXY;
  try {
    process.env.BERTH_PROXY = '/nonexistent/berth-proxy';
    await expect(openProxy(tcp(80), '127.0.0.1')).rejects.toThrow('the port proxy /nonexistent/berth-proxy is missing');
    const notExecutable = join(mkdtempSync(join(tmpdir(), 'berth-proxy-test-')), 'berth-proxy');
    writeFileSync(notExecutable, 'not a program\n', { mode: 0o644 });
    process.env.BERTH_PROXY = notExecutable;
    const server = createServer();
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const port = (server.address() as AddressInfo).port;
    server.close();
    await expect(openProxy(tcp(80, port), '127.0.0.1')).rejects.toThrow(`cannot start the port proxy ${notExecutable}`);
    rmSync(dirname(notExecutable), { recursive: true });
    const again = createServer();
    await new Promise<void>((res, rej) => { again.once('error', rej); again.listen(port, '127.0.0.1', res); });
    again.close();
  } finally {
    if (saved === undefined) delete process.env.BERTH_PROXY; else process.env.BERTH_PROXY = saved;
  }
});
