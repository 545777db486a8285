/**
 * Property-based hostile input against a real berthd (fast-check): random methods and
 * paths through the router, malformed and ill-typed JSON bodies, image references, and
 * tar archives with escapes. Every answer is a 2xx or a 4xx with a JSON message (no
 * 500, no stack trace, no host path; 501 for what berthd leaves out), nothing is written outside its root, and berthd
 * keeps answering. A failure prints fast-check's seed and the shrunk input to replay.
 */
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, freePort, ping, startDaemon, type ApiResponse, type Daemon } from '../../fixtures/daemon.js';
import { buildImage, dockerArchive, layerTar, type TarEntry } from '../../fixtures/images.js';
import { removeTree } from '../../fixtures/rootfs.js';

let d: Daemon;
let canary: string;
let container: string;
const IMAGE = 'props/busybox:latest';

beforeAll(async () => {
  d = await startDaemon();
  canary = mkdtempSync(join(tmpdir(), 'berth-props-canary-'));
  writeFileSync(join(canary, 'precious'), 'host data\n');
  const load = await api(d, 'POST', '/images/load?quiet=1', await dockerArchive([{ image: await buildImage(), repoTags: [IMAGE] }]));
  expect(load.status).toBe(200);
  await ensureTarget();
}, 60_000);

/** The container the archive and body tests write to; the router's DELETEs may have removed it (IDs match by prefix). */
async function ensureTarget(): Promise<void> {
  if (container && (await api(d, 'GET', `/containers/${container}/json`)).status === 200) return;
  const c = await api(d, 'POST', '/containers/create', { Image: IMAGE, Cmd: ['true'] });
  expect(c.status).toBe(201);
  container = c.json.Id;
}

afterAll(async () => {
  await d?.stop();
  if (canary) removeTree(canary);
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${method} ${path}: no answer in 20 s`)), 20_000); });
  try {
    return await Promise.race([api(d, method, path, body, headers), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The contract for any input: no server error, errors carry a clean message. */
function wellBehaved(res: ApiResponse, what: string): void {
  const text = res.body.toString('utf8');
  // 501 is a refusal with a message (a docker feature berthd leaves out), not a failure.
  if (res.status >= 500 && res.status !== 501) throw new Error(`${what}: ${res.status} ${text.slice(0, 500)}`);
  // HEAD has no body; 431 comes from node's HTTP parser, before any route (an oversized request line).
  if (res.status >= 400 && !what.startsWith('HEAD ') && res.status !== 431) {
    if (typeof res.json?.message !== 'string' || res.json.message === '') throw new Error(`${what}: ${res.status} without a message: ${text.slice(0, 300)}`);
  }
  if (/\n\s+at .+\(.*:\d+:\d+\)|node:internal/.test(text)) throw new Error(`${what}: a stack trace in the answer: ${text.slice(0, 500)}`);
  if (res.status >= 400 && (text.includes(d.dataRoot) || text.includes(d.execRoot))) throw new Error(`${what}: a host path in the error: ${text.slice(0, 300)}`);
}

async function stillAnswers(): Promise<void> {
  expect(await ping(d.socket)).toBe(true);
}

function canaryIntact(): void {
  expect(readdirSync(canary)).toEqual(['precious']);
  expect(readFileSync(join(canary, 'precious'), 'utf8')).toBe('host data\n');
}

// Routes that would reach a registry (network beyond loopback) or stream forever are left out.
const ROUTES: Array<[string, string]> = [
  ['DELETE', '/containers/:id'], ['DELETE', '/images/:id'], ['DELETE', '/networks/:id'], ['DELETE', '/volumes/:id'],
  ['GET', '/containers/:id/archive'], ['GET', '/containers/:id/changes'], ['GET', '/containers/:id/export'],
  ['GET', '/containers/:id/json'], ['GET', '/containers/:id/logs'], ['GET', '/containers/:id/top'],
  ['GET', '/containers/json'], ['GET', '/exec/:id/json'], ['GET', '/images/:id/get'], ['GET', '/images/:id/history'],
  ['GET', '/images/:id/json'], ['GET', '/images/get'], ['GET', '/images/json'], ['GET', '/info'], ['GET', '/networks'],
  ['GET', '/networks/:id'], ['GET', '/system/df'], ['GET', '/version'], ['GET', '/volumes'], ['GET', '/volumes/:id'],
  ['HEAD', '/containers/:id/archive'], ['POST', '/commit'], ['POST', '/containers/:id/exec'], ['POST', '/containers/:id/kill'],
  ['POST', '/containers/:id/pause'], ['POST', '/containers/:id/rename'], ['POST', '/containers/:id/resize'],
  ['POST', '/containers/:id/restart'], ['POST', '/containers/:id/stop'], ['POST', '/containers/:id/unpause'],
  ['POST', '/containers/:id/update'], ['POST', '/containers/create'], ['POST', '/exec/:id/resize'], ['POST', '/exec/:id/start'],
  ['POST', '/images/:id/tag'], ['POST', '/networks/:id/connect'], ['POST', '/networks/:id/disconnect'], ['POST', '/networks/create'],
  ['POST', '/volumes/create'], ['PUT', '/containers/:id/archive'], ['GET', '/nope/:id'], ['PATCH', '/containers/:id/json'],
];

const segment = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('..', '.', '%2e%2e', '%2F', '%00', '%', '%zz', 'a%2Fb', '\u00e9', '\ud83d\ude00', 'x'.repeat(5000), '-1', '0'),
  fc.stringMatching(/^[a-f0-9]{1,64}$/),
);
const queryValue = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('1', '0', 'true', '-1', '1e999', '99999999999999999999', '{', '[]', '{"a":[1]}', '%ff', 'x'.repeat(10000)));
const queryKey = fc.constantFrom('all', 'force', 'v', 't', 'signal', 'name', 'filters', 'tail', 'since', 'until', 'path', 'h', 'w', 'repo', 'tag', 'size', 'link', 'ps_args', 'stdout', 'container', 'changes', 'platform', 'noOverwriteDirNonDir', 'copyUIDGID');
const versionPrefix = fc.constantFrom('', '/v1.47', '/v1.24', '/v1.12', '/v0.1', '/v99.0', '/vx', '/v1.47/v1.47');
/** Percent-encodes what a URL can't hold, but leaves % alone: hostile escapes stay hostile. */
const escape = (s: string) => Buffer.from(s.toWellFormed(), 'utf8').toString('latin1').replace(/[^A-Za-z0-9%._~\-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

test('any method and path through the router: no 5xx, errors with a message, berthd answers', async () => {
  await fc.assert(fc.asyncProperty(
    fc.constantFrom(...ROUTES), segment, versionPrefix, fc.array(fc.tuple(queryKey, queryValue), { maxLength: 4 }),
    async ([method, template], seg, prefix, query) => {
      const path = prefix + template.replace(':id', escape(seg)) + (query.length ? `?${query.map(([k, v]) => `${k}=${escape(v)}`).join('&')}` : '');
      // A blocking wait on the one real container would be a valid answer that never comes.
      if (/\/containers\/[^/]+\/(attach|wait)/.test(path)) return;
      wellBehaved(await call(method, path), `${method} ${path.slice(0, 200)}`);
    },
  ), { numRuns: 250 });
  await stillAnswers();
}, 120_000);

const wrongValue = fc.oneof(
  fc.string({ maxLength: 20 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
  fc.constantFrom(1e308, -1e308, 2 ** 63, -(2 ** 63), 2 ** 64 + 1, -1, 0, Number.MAX_SAFE_INTEGER, 1.5, '1e999', '-1'),
  fc.array(fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.constant(null)), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.constant(null)), { maxKeys: 3 }),
);
const HOST_CONFIG_KEYS = ['Memory', 'MemorySwap', 'MemoryReservation', 'NanoCpus', 'CpuShares', 'CpuPeriod', 'CpuQuota', 'CpusetCpus',
  'BlkioWeight', 'PidsLimit', 'Binds', 'PortBindings', 'Mounts', 'Sysctls', 'Devices', 'Ulimits', 'RestartPolicy', 'LogConfig',
  'NetworkMode', 'SecurityOpt', 'CapAdd', 'CapDrop', 'Dns', 'ExtraHosts', 'Tmpfs', 'ShmSize', 'OomScoreAdj', 'Privileged',
  'ReadonlyRootfs', 'Init', 'AutoRemove', 'VolumesFrom', 'Links', 'PublishAllPorts', 'UsernsMode', 'IpcMode', 'PidMode', 'GroupAdd'];
const CONFIG_KEYS = ['Cmd', 'Entrypoint', 'Env', 'User', 'WorkingDir', 'Labels', 'ExposedPorts', 'Volumes', 'Healthcheck', 'StopSignal',
  'StopTimeout', 'Tty', 'OpenStdin', 'Hostname', 'Domainname', 'MacAddress', 'NetworkingConfig', 'AttachStdin', 'Shell', 'OnBuild'];
const partial = (keys: string[]) => fc.dictionary(fc.constantFrom(...keys), wrongValue, { maxKeys: 4 });
const deep = (n: number, open: string, close: string) => open.repeat(n) + close.repeat(n);

const rawBody = fc.oneof(
  fc.constantFrom('', '{', '}', 'null', '[]', '"x"', '1', 'true', '{"Image":', '{"Image":"x"}}', '\u0000', '{"a":1,"a":2}',
    deep(100_000, '[', ']'), deep(5_000, '{"a":', '}').replace(/}$/, '1}'), `{"Image":"${'x'.repeat(8 << 20)}"}`,
    `{"Image":"${IMAGE}","Env":[${Array.from({ length: 20000 }, () => '"A=1"').join(',')}]}`, '{"Image":1e999999}', '\xff\xfe{'),
  fc.json({ maxDepth: 4 }),
  fc.string({ maxLength: 200 }),
);

test('JSON bodies: malformed, wrong types, huge numbers, deep nesting, enormous strings', async () => {
  await ensureTarget();
  const created: string[] = [];
  await fc.assert(fc.asyncProperty(
    fc.constantFrom('/containers/create', '/networks/create', '/volumes/create', `/containers/${container}/update`,
      `/containers/${container}/exec`, `/commit?container=${container}&repo=props/c`, '/networks/bridge/connect', '/networks/bridge/disconnect'),
    fc.oneof(
      rawBody.map((text) => ({ text })),
      fc.tuple(partial(CONFIG_KEYS), partial(HOST_CONFIG_KEYS), fc.constantFrom(IMAGE, '', 'UPPER', 'a'.repeat(300), 'sha256:00', '../x', 1 as unknown as string))
        .map(([cfg, hc, image]) => ({ text: JSON.stringify({ Image: image, ...cfg, HostConfig: hc }) })),
      fc.dictionary(fc.constantFrom('Name', 'Driver', 'Labels', 'Options', 'IPAM', 'Internal', 'EnableIPv6', 'DriverOpts', 'Container', 'EndpointConfig', 'Cmd', 'Env', 'User', 'AttachStdout'), wrongValue, { maxKeys: 4 })
        .map((o) => ({ text: JSON.stringify(o) })),
    ),
    async (path, { text }) => {
      const res = await call('POST', path, Buffer.from(text), { 'Content-Type': 'application/json' });
      wellBehaved(res, `POST ${path} ${text.slice(0, 200)}`);
      if (res.status === 201 && path === '/containers/create') created.push(res.json.Id);
    },
  ), { numRuns: 200 });
  for (const id of created) await call('DELETE', `/containers/${id}?force=1&v=1`);
  await stillAnswers();
}, 180_000);

const refChar = fc.constantFrom(...'abcXYZ09./:@_-+~ %\u00e9\n'.split(''));
const reference = fc.oneof(
  fc.string({ unit: refChar, maxLength: 80 }),
  fc.constantFrom('sha256:', 'sha256:zz', `sha256:${'0'.repeat(64)}`, 'a@sha256:1', 'localhost:99999999/a', 'a:b:c', 'A', 'a'.repeat(300),
    '/a', 'a/', 'a//b', '-a', 'a:', ':a', '@', 'a@', '127.0.0.1:1/x:y', IMAGE, `${IMAGE}@sha256:${'1'.repeat(64)}`),
);

test('image references in every place that takes one (no registry is contacted)', async () => {
  await fc.assert(fc.asyncProperty(reference, reference, async (ref, other) => {
    const e = encodeURIComponent(ref);
    for (const [m, p, body] of [
      ['GET', `/images/${e}/json`], ['GET', `/images/${e}/history`],
      ['POST', `/images/${encodeURIComponent(IMAGE)}/tag?repo=${e}&tag=${encodeURIComponent(other)}`],
      ['POST', '/containers/create', { Image: ref }], ['GET', `/images/json?filters=${encodeURIComponent(JSON.stringify({ reference: [ref] }))}`],
      ['GET', `/images/get?names=${e}`],
    ] as Array<[string, string, unknown?]>) {
      const res = await call(m, p, body);
      wellBehaved(res, `${m} ${p.slice(0, 200)}`);
    }
    // Removal, unless the reference names (or is an ID prefix of) the image the test needs.
    if ((await call('GET', `/images/${e}/json`)).status !== 200) wellBehaved(await call('DELETE', `/images/${e}?noprune=1`), `DELETE /images/${e}`);
  }), { numRuns: 120 });
  // The loaded image is still there and still named.
  expect((await call('GET', `/images/${encodeURIComponent(IMAGE)}/json`)).status).toBe(200);
  await stillAnswers();
}, 180_000);

/** Tar entries that try to leave the root every way a tar can. */
function hostileEntries(): fc.Arbitrary<TarEntry[]> {
  const name = fc.oneof(
    fc.constantFrom('../escaped', '../../../../../../escaped', `/${canary.slice(1)}/abs`, 'a/../../escaped', './../x', 'ok/file', 'ok',
      'link', 'link/through', 'hl', 'dev', 'fifo', `${'d/'.repeat(200)}deep`, 'n'.repeat(300), 'a\u0000b', '.', './', ''),
    fc.string({ maxLength: 30 }),
  );
  const entry: fc.Arbitrary<TarEntry> = fc.oneof(
    fc.record({ name, content: fc.constantFrom('x', '') }),
    fc.record({ name: fc.constant('ok/') }),
    fc.record({ name, type: fc.constant('symlink' as const), linkname: fc.constantFrom(canary, `${canary}/precious`, '../../../../..', '/', '/etc', 'link') }),
    fc.record({ name, type: fc.constant('link' as const), linkname: fc.constantFrom(`${canary}/precious`, '../../../../etc/passwd', '/etc/passwd', 'ok/file', 'missing') }),
    fc.record({ name, type: fc.constant('character-device' as const), devmajor: fc.constantFrom(1, 8), devminor: fc.constantFrom(3, 0) }),
    fc.record({ name, type: fc.constant('fifo' as const) }),
    fc.record({ name, content: fc.constant('p'), pax: fc.constantFrom({ path: '../../pax-escaped' }, { linkpath: canary }, { comment: 'c'.repeat(1 << 20) }, { size: '99999999999999' }, { 'SCHILY.xattr.security.capability': 'x' }) }),
  );
  return fc.array(entry, { minLength: 1, maxLength: 6 });
}

const mangle = fc.oneof(fc.constant('none'), fc.constant('truncate'), fc.constant('garbage-header'));
async function tarBytes(entries: TarEntry[], how: string): Promise<Buffer> {
  let tar: Buffer;
  try {
    tar = await layerTar(entries);
  } catch {
    tar = Buffer.from('not a tar at all');
  }
  if (how === 'truncate') return tar.subarray(0, Math.max(1, (tar.length * 0.6) | 0));
  if (how === 'garbage-header') { const b = Buffer.from(tar); b.fill(0xff, 100, 160); return b; }
  return tar;
}

test('archive uploads (PUT /containers/{id}/archive) and image loads of hostile tars: nothing outside the root', async () => {
  await ensureTarget();
  const rootfsParent = join(d.dataRoot);
  await fc.assert(fc.asyncProperty(hostileEntries(), mangle, fc.constantFrom('/', '/tmp', '/etc'), async (entries, how, dest) => {
    const tar = await tarBytes(entries, how);
    const put = await call('PUT', `/containers/${container}/archive?path=${encodeURIComponent(dest)}`, tar, { 'Content-Type': 'application/x-tar' });
    wellBehaved(put, `PUT archive ${JSON.stringify(entries).slice(0, 300)} (${how})`);
    const load = await call('POST', '/images/load?quiet=1', tar, { 'Content-Type': 'application/x-tar' });
    wellBehaved(load, `load ${JSON.stringify(entries).slice(0, 300)} (${how})`);
    canaryIntact();
    for (const p of ['/escaped', '/pax-escaped', join(tmpdir(), 'escaped'), join(rootfsParent, 'escaped'), join(d.dataRoot, '..', 'escaped')]) expect(existsSync(p)).toBe(false);
  }), { numRuns: 80 });
  await stillAnswers();
}, 180_000);

test('regressions the properties found, each once', async () => {
  await ensureTarget();
  const tar = async (entries: TarEntry[]) => layerTar(entries);
  const put = (body: Buffer) => call('PUT', `/containers/${container}/archive?path=/tmp`, body, { 'Content-Type': 'application/x-tar' });
  // A wrong JSON type reached the commit code as a TypeError (500).
  const wrong = await call('POST', `/commit?container=${container}&repo=props/r`, { Cmd: 0 });
  expect(wrong.status).toBe(400);
  expect(wrong.json.message).toMatch(/cannot unmarshal number into Go struct field Config.Cmd of type strslice.StrSlice \(Cmd must be a string or an array of strings\)/);
  // A string Cmd is docker's one-element list.
  expect((await call('POST', `/commit?container=${container}&repo=props/r`, { Cmd: 'sh' })).status).toBe(201);
  expect((await call('GET', '/images/props%2Fr/json')).json.Config.Cmd).toEqual(['sh']);
  // A truncated tar was a 500 "Unexpected end of data".
  const whole = await tar([{ name: 'f', content: 'x'.repeat(2000) }]);
  expect((await put(whole.subarray(0, 700))).status).toBe(400);
  // A symlink named "" or "." replaced the container's root (500 with the host path).
  const root = await put(await tar([{ name: '', type: 'symlink', linkname: canary }]));
  expect(root.status).toBeLessThan(500);
  expect(root.body.toString()).not.toContain(d.execRoot);
  // A NUL byte in a PAX path was a TypeError from fs (500).
  expect((await put(await tar([{ name: 'a', content: 'p', pax: { path: 'a\0b' } }]))).status).toBe(400);
  // A hard link to nothing was an ENOENT with host paths (500).
  const hl = await put(await tar([{ name: 'hl', type: 'link', linkname: 'missing' }]));
  expect(hl.status).toBe(400);
  expect(hl.json.message).toMatch(/hard link "hl" -> "missing": its target is neither in the archive nor in the container/);
  canaryIntact();
});

/**
 * A registry on loopback that serves whatever the property made: manifests and indexes
 * with wrong types, sizes, digests, media types and nesting, and blobs to match or not.
 */
async function fakeRegistry(): Promise<{ host: string; serve: Map<string, { type: string; body: Buffer }>; close(): Promise<void> }> {
  const serve = new Map<string, { type: string; body: Buffer }>();
  const port = await freePort();
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').replace(/\?.*$/, '');
    if (path === '/v2/' || path === '/v2') { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end('{}'); return; }
    const hit = serve.get(path);
    if (!hit) { res.writeHead(404, { 'Content-Type': 'application/json' }); res.end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"no"}]}'); return; }
    res.writeHead(200, { 'Content-Type': hit.type, 'Docker-Content-Digest': `sha256:${createHash('sha256').update(hit.body).digest('hex')}` });
    res.end(req.method === 'HEAD' ? undefined : hit.body);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return { host: `127.0.0.1:${port}`, serve, close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }) };
}

test('pulls of hostile manifests and indexes from a loopback registry: an error line or a 4xx, never a crash', async () => {
  const reg = await fakeRegistry();
  const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const before = (await call('GET', '/images/json?all=1')).json.length;
  const mediaType = fc.constantFrom('application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json',
    'application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json', 'text/html', '', 'application/json');
  const descriptor = fc.record({
    mediaType: fc.oneof(mediaType, wrongValue), digest: fc.oneof(fc.constantFrom('sha256:', `sha256:${'a'.repeat(64)}`, 'md5:00', '../../etc', ''), wrongValue),
    size: fc.oneof(fc.constantFrom(0, -1, 1e18, 2 ** 53, 1.5, 1e308), wrongValue),
    platform: fc.oneof(fc.constant(undefined), fc.record({ os: fc.oneof(fc.constant('linux'), wrongValue), architecture: fc.oneof(fc.constant('amd64'), wrongValue) })),
  }, { requiredKeys: [] });
  const doc = fc.oneof(
    fc.record({ schemaVersion: fc.oneof(fc.constant(2), wrongValue), mediaType: fc.oneof(mediaType, wrongValue), config: fc.oneof(descriptor, wrongValue), layers: fc.oneof(fc.array(descriptor, { maxLength: 3 }), wrongValue) }, { requiredKeys: [] }),
    fc.record({ schemaVersion: fc.oneof(fc.constant(2), wrongValue), mediaType: fc.oneof(mediaType, wrongValue), manifests: fc.oneof(fc.array(descriptor, { maxLength: 3 }), wrongValue) }, { requiredKeys: [] }),
    fc.json({ maxDepth: 3 }).map((t) => JSON.parse(t) as unknown),
    fc.constantFrom('{', '', deep(50_000, '{"manifests":[', ']}'), 'x'.repeat(1 << 20)).map((t) => ({ raw: t })),
  );
  let n = 0;
  try {
    // Found by this property: an index entry without a digest was a TypeError (500).
    reg.serve.set('/v2/fuzz/manifests/nodigest', { type: 'application/vnd.oci.image.index.v1+json', body: Buffer.from('{"manifests":[{"platform":{"os":"linux","architecture":"amd64"}}]}') });
    const r = await call('POST', `/images/create?fromImage=${encodeURIComponent(`${reg.host}/fuzz`)}&tag=nodigest`);
    expect(r.lines.find((l) => l.error)?.error ?? r.json?.message).toMatch(/manifest list of .*fuzz:nodigest: invalid digest undefined/);
    await fc.assert(fc.asyncProperty(doc, mediaType, fc.boolean(), async (m, type, childIsSelf) => {
    const tag = `t${++n}`;
    const body = Buffer.from(typeof m === 'object' && m !== null && 'raw' in m ? String((m as { raw: string }).raw) : JSON.stringify(m));
    reg.serve.set(`/v2/fuzz/manifests/${tag}`, { type, body });
    // An index may point back at itself by digest: a loop, not a stack overflow.
    if (childIsSelf) reg.serve.set(`/v2/fuzz/manifests/${digestOf(body)}`, { type, body });
    const res = await call('POST', `/images/create?fromImage=${encodeURIComponent(`${reg.host}/fuzz`)}&tag=${tag}`);
    wellBehaved(res, `pull ${body.toString().slice(0, 300)} as ${type}`);
    if (res.status === 200 && !res.lines.some((l) => l.error)) throw new Error(`pull of ${body.toString().slice(0, 300)} succeeded`);
    }), { numRuns: 60 });
  } finally {
    await reg.close();
  }
  expect((await call('GET', '/images/json?all=1')).json.length).toBe(before);
  await stillAnswers();
}, 180_000);
