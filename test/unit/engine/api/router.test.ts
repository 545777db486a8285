/** The API router on a real node:http server: params, versions, errors, streams, hijack. */
import { createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';
import { Router } from '../../../../engine/api/router.js';
import { ConflictError, NotFoundError } from '../../../../engine/errors.js';

let server: Server;
let port: number;

beforeAll(async () => {
  const r = new Router();
  r.get('/images/:name+/json', (ctx) => ({ name: ctx.params.name, version: ctx.version }));
  r.delete('/images/:name+', (ctx) => ({ deleted: ctx.params.name }));
  r.get('/containers/:id/json', (ctx) => {
    if (ctx.params.id === 'missing') throw new NotFoundError('No such container: missing');
    if (ctx.params.id === 'busy') throw new ConflictError('container is running');
    if (ctx.params.id === 'bug') throw new Error('kaboom\nwith a second line');
    return { id: ctx.params.id };
  });
  r.post('/echo', async (ctx) => ({ got: await ctx.body() }));
  for (const path of ['/containers/create', '/commit', '/containers/:id/exec']) r.post(path, async (ctx) => ({ got: await ctx.body() }));
  r.post('/progress', (ctx) => {
    const s = ctx.stream();
    s.write({ status: 'one' });
    throw new Error('failed half-way');
  });
  r.post('/nothing', () => undefined);
  r.post('/containers/:id/attach', async (ctx) => {
    const opts = await ctx.body();
    const sock = await ctx.hijack('application/vnd.docker.raw-stream');
    sock.write(`opts=${JSON.stringify(opts)}\n`);
    sock.on('data', (d: Buffer) => sock.write(`echo:${d.toString()}`));
    sock.on('end', () => sock.end('bye\n'));
  });
  server = createServer(r.handle);
  server.on('upgrade', r.handleUpgrade);
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function call(method: string, path: string, body?: string): Promise<{ status: number; text: string; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: body ? { 'Content-Type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode!, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('greedy params take image names with slashes, with or without a version prefix', async () => {
  expect((await call('GET', '/images/127.0.0.1:5000/a/b:tag/json')).json).toEqual({ name: '127.0.0.1:5000/a/b:tag', version: '1.47' });
  expect((await call('GET', '/v1.41/images/busybox/json')).json).toEqual({ name: 'busybox', version: '1.41' });
  expect((await call('DELETE', '/v1.47/images/a/b/c')).json).toEqual({ deleted: 'a/b/c' });
});

test('versions outside 1.12..1.47 are a 400 with a JSON message', async () => {
  const high = await call('GET', '/v1.99/images/x/json');
  expect(high.status).toBe(400);
  expect(high.json.message).toMatch(/client version 1.99 is too new. Maximum supported API version is 1.47/);
  const low = await call('GET', '/v1.11/images/x/json');
  expect(low.status).toBe(400);
  expect(low.json.message).toMatch(/too old/);
});

test('engine errors map to statuses in one place; unknown routes are 404', async () => {
  expect((await call('GET', '/containers/missing/json')).status).toBe(404);
  expect((await call('GET', '/containers/busy/json')).status).toBe(409);
  const bug = await call('GET', '/containers/bug/json');
  expect(bug.status).toBe(500);
  expect(bug.json.message).toBe('kaboom with a second line');
  const none = await call('GET', '/nope');
  expect(none.status).toBe(404);
  expect(none.json.message).toMatch(/page not found/);
});

test('JSON bodies, invalid JSON, empty answers', async () => {
  expect((await call('POST', '/echo', '{"a":1}')).json).toEqual({ got: { a: 1 } });
  const bad = await call('POST', '/echo', '{not json');
  expect(bad.status).toBe(400);
  expect(bad.json.message).toMatch(/invalid JSON/);
  expect((await call('POST', '/nothing')).status).toBe(204);
});

test('a string where docker\'s strslice goes arrives as the one-element list, in any key case; other types are a 400', async () => {
  const create = await call('POST', '/containers/create', JSON.stringify({ cmd: 'sh', Entrypoint: '/init', Shell: ['bash', '-c'], Healthcheck: { test: ['CMD-SHELL', 'true'] }, Env: ['A=1'] }));
  expect(create.json.got).toEqual({ Cmd: ['sh'], Entrypoint: ['/init'], Shell: ['bash', '-c'], Healthcheck: { Test: ['CMD-SHELL', 'true'] }, Env: ['A=1'] });
  expect((await call('POST', '/commit', '{"Cmd":"sh","Entrypoint":null}')).json.got).toEqual({ Cmd: ['sh'], Entrypoint: null });
  // a []string in dockerd, not a strslice: a string there is refused
  for (const [path, body] of [['/containers/x/exec', '{"Cmd":"ls"}'], ['/containers/create', '{"Healthcheck":{"Test":"CMD-SHELL true"}}']]) {
    const r = await call('POST', path, body);
    expect({ status: r.status, message: r.json.message }).toEqual({ status: 400, message: expect.stringMatching(/cannot unmarshal string into Go struct field \S*(Cmd|Test) of type \[\]string/) });
  }
  // Labels are user data: a key named Cmd stays a string there.
  expect((await call('POST', '/containers/create', '{"Labels":{"Cmd":"sh"}}')).json.got).toEqual({ Labels: { Cmd: 'sh' } });
  const wrong = await call('POST', '/containers/create', '{"Cmd":["sh",1]}');
  expect(wrong.status).toBe(400);
  expect(wrong.json.message).toMatch(/cannot unmarshal array into Go struct field Config.Cmd of type strslice.StrSlice/);
});

test('an error after a progress stream started becomes an errorDetail line', async () => {
  const r = await call('POST', '/progress');
  expect(r.status).toBe(200);
  const lines = r.text.trim().split('\n').map((l) => JSON.parse(l));
  expect(lines).toEqual([{ status: 'one' }, { errorDetail: { message: 'failed half-way' }, error: 'failed half-way' }]);
});

test('hijack with Upgrade: body read by Content-Length, then raw bytes both ways and half-close', async () => {
  const sock = connect(port, '127.0.0.1');
  const body = '{"stdin":true}';
  let got = '';
  sock.on('data', (d) => (got += d.toString()));
  const ended = new Promise<void>((r) => sock.on('end', r));
  // The body and the first stdin bytes arrive in one packet: exactly Content-Length is the body.
  sock.write(`POST /v1.47/containers/x/attach HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}hello`);
  await new Promise((r) => setTimeout(r, 100));
  sock.end();
  await ended;
  expect(got).toMatch(/^HTTP\/1.1 101 UPGRADED\r\n/);
  expect(got).toContain('Content-Type: application/vnd.docker.raw-stream');
  const payload = got.slice(got.indexOf('\r\n\r\n') + 4);
  expect(payload).toBe('opts={"stdin":true}\necho:hellobye\n');
});
