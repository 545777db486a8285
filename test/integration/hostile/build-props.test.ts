/**
 * Hostile Dockerfiles and build contexts through POST /build against a real berthd
 * (fast-check, as api-props.test.ts does for the other routes): sources and
 * destinations with ../, absolute paths and symlinks out of the context, huge lines,
 * deep continuations, unknown instructions and flags, bad ARG/ENV expansion, hostile
 * .dockerignore files and query parameters. Every answer is a 4xx with a message or a
 * build stream whose error line is a clean message (no 500, no stack trace, no engine
 * path, no JS-internal error text); nothing is written outside the roots; berthd keeps
 * answering. A failure prints fast-check's seed and the shrunk input to replay.
 */
import fc from 'fast-check';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, ping, startDaemon, type ApiResponse, type Daemon } from '../../fixtures/daemon.js';
import { buildImage, dockerArchive, layerTar, type TarEntry } from '../../fixtures/images.js';
import { removeTree } from '../../fixtures/rootfs.js';

let d: Daemon;
let canary: string;
const IMAGE = 'bprops/busybox:latest';

beforeAll(async () => {
  d = await startDaemon();
  canary = mkdtempSync(join(tmpdir(), 'berth-bprops-canary-'));
  writeFileSync(join(canary, 'precious'), 'host data\n');
  const load = await api(d, 'POST', '/images/load?quiet=1', await dockerArchive([{ image: await buildImage(), repoTags: [IMAGE] }]));
  expect(load.status).toBe(200);
}, 60_000);

afterAll(async () => {
  await d?.stop();
  if (canary) removeTree(canary);
});

async function build(query: string, body: Buffer): Promise<ApiResponse> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`POST /build?${query}: no answer in 60 s`)), 60_000); });
  try {
    return await Promise.race([api(d, 'POST', `/build?rm=1&forcerm=1&${query}`, body), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What JavaScript says when engine code trips, rather than an engine message. */
const INTERNAL = /Maximum call stack|Invalid regular expression|Cannot read propert|is not a function|is not iterable|Unexpected token|\bat .+:\d+:\d+|node:internal|\bE(NOENT|EXIST|ACCES|PERM|NOTDIR|ISDIR|LOOP|INVAL|NAMETOOLONG|XDEV|NOTEMPTY|BUSY)\b/;

function wellBehaved(res: ApiResponse, what: string): void {
  const text = res.body.toString('utf8');
  if (res.status >= 500 && res.status !== 501) throw new Error(`${what}: ${res.status} ${text.slice(0, 500)}`);
  const messages: string[] = [];
  if (res.status >= 400) {
    if (typeof res.json?.message !== 'string' || res.json.message === '') throw new Error(`${what}: ${res.status} without a message: ${text.slice(0, 300)}`);
    messages.push(res.json.message);
  }
  for (const l of res.lines) {
    if (l.error === undefined) continue;
    if (typeof l.error !== 'string' || l.error === '') throw new Error(`${what}: an empty error line: ${JSON.stringify(l).slice(0, 300)}`);
    messages.push(l.error);
  }
  for (const m of messages) {
    if (INTERNAL.test(m)) throw new Error(`${what}: an internal error for an input: ${m.slice(0, 500)}`);
    if (m.includes(d.dataRoot) || m.includes(d.execRoot)) throw new Error(`${what}: an engine path in the error: ${m.slice(0, 300)}`);
  }
}

function nothingOutside(): void {
  expect(readdirSync(canary)).toEqual(['precious']);
  expect(readFileSync(join(canary, 'precious'), 'utf8')).toBe('host data\n');
  for (const p of ['/escaped', join(tmpdir(), 'escaped'), join(d.dataRoot, 'escaped'), join(d.dataRoot, '..', 'escaped'), join(d.execRoot, 'escaped')]) {
    expect(existsSync(p)).toBe(false);
  }
}

const deep = (n: number) => '${a:-'.repeat(n) + 'x' + '}'.repeat(n);
const src = () => fc.oneof(
  fc.constantFrom('ok/file', 'ok', '.', '*', 'ok/*', '../escaped', '../../../../../../etc/passwd', '/etc/passwd', 'link/precious', 'link', 'uplink/etc/hostname',
    'loop', 'loop/x', 'ok/../../x', './../x', '[z-a]', '[', '[!]', '\\', '**', '?', '$X/../..', '${X:-..}/etc', '${X:?unset}', deep(300), 'x'.repeat(70_000),
    'escaped.tar', `${'d/'.repeat(300)}f`),
  fc.constant(`${canary}/precious`),
  fc.string({ maxLength: 12 }),
);
const dest = () => fc.constantFrom('/', '/tmp/', '/x', '../../../escaped', '/../../../escaped', 'rel/', '$HOME/', '${X:-/}', '/etc/passwd/', '/bin/sh/x', '/proc/x', '/dev/null');
const instruction = () => fc.oneof(
  // Steps that succeed on most contexts, so the hostile ones after them run too.
  { weight: 3, arbitrary: fc.constantFrom('COPY . /ctx/', 'ADD escaped.tar /t/', 'COPY escaped.tar /t.tar', 'ENV a=1 b="x y"', 'ARG X', 'WORKDIR /w', 'COPY --chown=1:1 . /o/', 'ADD . /add/') },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('COPY', 'ADD', 'copy', 'COPY --from=0', 'COPY --from=../../', 'COPY --from=nosuchstage', 'COPY --chown=99999999999:x', 'COPY --chown=a:b:c',
    'ADD --chmod=9999', 'COPY --chmod=0755', 'COPY --link', 'COPY --frob=1'), fc.array(src(), { minLength: 1, maxLength: 3 }), dest())
    .map(([k, s, t]) => `${k} ${s.join(' ')} ${t}`) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('COPY', 'ADD'), fc.array(src(), { minLength: 1, maxLength: 2 }), dest()).map(([k, s, t]) => `${k} ${JSON.stringify([...s, t])}`) },
  { weight: 2, arbitrary: fc.constantFrom('ARG a=${b:?nope}', 'ARG', 'ARG =x', 'ARG a=${', 'ENV x=${', 'ENV x=${y:-${z:-${', 'ENV a="unterminated', "ENV a='x", 'ENV =x', 'ENV a',
    'ENV a=${a:*x}', `ENV a=${deep(1000)}`, `ARG b=${deep(100_000)}`, 'LABEL a', 'LABEL =', 'ENV ${X:?no}=1', 'ARG X=..', 'ENV HOME=/../..', `ENV big=${'v'.repeat(1 << 20)}`,
    'FROBNICATE x', 'ONBUILD ONBUILD RUN x', 'ONBUILD FROM x', 'HEALTHCHECK --interval=-1s CMD x', 'HEALTHCHECK --retries=1e99 CMD x', 'STOPSIGNAL SIGFOO',
    'USER nobody:nogroup:x', 'WORKDIR ../../../..', 'WORKDIR $X/../../escaped', 'EXPOSE 99999/tcp', 'EXPOSE -1', 'EXPOSE a-b/sctp', 'SHELL not-json', 'SHELL []',
    'VOLUME ["../../x"]', 'VOLUME [', 'CMD [1, 2]', 'ENTRYPOINT {"a":1}', 'MAINTAINER', 'FROM', `FROM ${IMAGE} AS 0`, 'FROM scratch', 'FROM ../../x', 'FROM $NOPE',
    'FROM ${x:?boom}', 'RUN <<EOF', 'COPY <<EOF /x', `LABEL a=${'x'.repeat(2 << 20)}`, `# ${'c'.repeat(1 << 20)}`, `ENV a=b${' \\\n'.repeat(50_000)} c=d`,
    `ENV a=b${' \\\n#\n\n'.repeat(20_000)}`, '\\', '`', '\u0000', 'RUN true') },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);
const dockerfile = () => fc.tuple(
  fc.constantFrom(`FROM ${IMAGE}`, 'FROM scratch', `FROM ${IMAGE} AS base`, '# escape=`\nFROM scratch', `# syntax=x\n# a=b${' '.repeat(100_000)}c\nFROM ${IMAGE}`, '', 'ARG X=..\nFROM scratch'),
  fc.array(instruction(), { maxLength: 5 }),
).map(([from, rest]) => [from, ...rest].join('\n'));

const contextEntry = (): fc.Arbitrary<TarEntry> => fc.oneof(
  fc.constantFrom<TarEntry>(
    { name: 'ok/file', content: 'x' }, { name: 'ok/', type: 'directory' },
    { name: 'uplink', type: 'symlink', linkname: '../../../../../..' }, { name: 'loop', type: 'symlink', linkname: 'loop' },
    { name: 'dotdot', type: 'symlink', linkname: '..' }, { name: 'hl', type: 'link', linkname: '../outside' },
    { name: '../escaped', content: 'x' }, { name: '/abs-escaped', content: 'x' }, { name: 'ok/../../escaped', content: 'x' },
    { name: '.dockerignore', content: '[\n**/../\n!../\n*\n!ok\n' }, { name: '.dockerignore', content: `${'a'.repeat(100_000)}\n` },
    { name: 'dev', type: 'character-device', devmajor: 1, devminor: 3 }, { name: 'fifo', type: 'fifo' },
    { name: 'nolink', type: 'symlink', linkname: '' }, { name: 'ok', content: 'a file where a directory goes' }, { name: 'ok/file/under', content: 'x' },
  ),
  fc.constant<TarEntry>({ name: 'link', type: 'symlink', linkname: canary }),
  fc.constant<TarEntry>({ name: 'abslink', type: 'symlink', linkname: `${canary}/precious` }),
);

/** A tar whose entries climb out, for ADD's unpacking. */
let escapingTar: Buffer;

test('hostile Dockerfiles and contexts: a 4xx or an error line with a message, nothing outside the roots', async () => {
  escapingTar = await layerTar([{ name: '../../../../escaped', content: 'x' }, { name: 'l', type: 'symlink', linkname: canary }, { name: 'l/precious', content: 'overwritten' }]);
  const query = fc.oneof(
    fc.constant(''),
    fc.constantFrom('dockerfile=../../etc/passwd', 'dockerfile=/etc/passwd', 'dockerfile=link/precious', 'dockerfile=loop', 'dockerfile=ok', 'dockerfile=%00',
      'buildargs=null', 'buildargs=%7B%22a%22%3A1%7D', 'buildargs=%7B%22X%22%3Anull%7D', 'buildargs=%5B%5D', 'buildargs=1', 'labels=null', 'labels=%7B%22a%22%3A%7B%7D%7D',
      'target=nosuch', 'target=base', 't=UPPER', 't=a%3Ab%3Ac', 'shmsize=-1', 'cachefrom=%7B%7D', 'cachefrom=null', 'extrahosts=a%3Ab%3Ac', 'networkmode=container%3Anope',
      'platform=../../x', 'nocache=1'),
  );
  let n = 0;
  await fc.assert(fc.asyncProperty(dockerfile(), fc.array(contextEntry(), { maxLength: 5 }), query, fc.boolean(), async (text, entries, q, bare) => {
    let body: Buffer;
    if (bare) {
      body = Buffer.from(text);
    } else {
      const names = new Set<string>();
      const unique = [{ name: 'Dockerfile', content: text } as TarEntry, { name: 'escaped.tar', content: escapingTar } as TarEntry, ...entries]
        .filter((e) => !names.has(e.name) && names.add(e.name));
      try {
        body = await layerTar(unique);
      } catch {
        body = await layerTar([{ name: 'Dockerfile', content: text }]);
      }
    }
    const res = await build(`t=bprops:${++n}&${q}`, body);
    wellBehaved(res, `build ${q} (${bare ? 'bare' : JSON.stringify(entries.map((e) => e.name))}): ${text.slice(0, 400)}`);
    nothingOutside();
  }), { numRuns: Number(process.env.BPROPS_RUNS ?? 120) });
  expect(await ping(d.socket)).toBe(true);
  // No build container is left behind, and the engine still builds.
  expect((await api(d, 'GET', '/containers/json?all=1')).json).toEqual([]);
  const ok = await build('t=bprops:fine', await layerTar([{ name: 'Dockerfile', content: `FROM ${IMAGE}\nCOPY f /f\n` }, { name: 'f', content: 'y' }]));
  expect(ok.lines.filter((l) => l.error)).toEqual([]);
}, 600_000);

test('regressions the properties found, each once', async () => {
  const ctx = (entries: TarEntry[]) => layerTar([{ name: 'Dockerfile', content: `FROM ${IMAGE}\nCOPY . /ctx/\n` }, ...entries]);
  const err = (r: ApiResponse) => (r.status >= 400 ? r.json?.message : r.lines.find((l) => l.error)?.error) as string | undefined;
  // A symlink without a target was a 500 with the build directory's host path.
  const nolink = await build('', await ctx([{ name: 'nolink', type: 'symlink', linkname: '' }]));
  expect({ status: nolink.status, err: err(nolink) }).toEqual({ status: 400, err: 'the build context entry "nolink" is a symbolic link without a target: fix or remove it' });
  // A file under a file: a 500 EEXIST.
  const under = await build('', await ctx([{ name: 'f', content: 'x' }, { name: 'f/under', content: 'x' }]));
  expect(under.status).toBe(400);
  expect(err(under)).toBe('the build context entry "f/under" cannot be unpacked: a file is in the way of it: fix or remove it');
  // labels=null and buildargs with a number were TypeErrors (500).
  for (const q of ['labels=null', 'buildargs=null', 'buildargs=%7B%22a%22%3A1%7D', 'cachefrom=%5B1%5D']) {
    const r = await build(q, await ctx([]));
    expect({ q, status: r.status }).toEqual({ q, status: 400 });
  }
  // COPY of a symbolic link onto a directory of the same name was an internal EISDIR (seed 924390718).
  const onto = await build('', await layerTar([{ name: 'Dockerfile', content: `FROM ${IMAGE}\nCOPY --from=0 * /\n` }]));
  expect(err(onto) ?? '').not.toMatch(/EISDIR|internal/i);
  // A .dockerignore pattern that is not a valid glob was a SyntaxError (500).
  const ignore = await build('', await ctx([{ name: '.dockerignore', content: 'ok\n[\n' }]));
  expect(err(ignore)).toBe('.dockerignore: syntax error in pattern "[": fix or remove it');
  // A Dockerfile named through a symlink loop was a 500.
  const loop = await build('dockerfile=loop', await ctx([{ name: 'loop', type: 'symlink', linkname: 'loop' }]));
  expect(loop.status).toBe(400);
  expect(err(loop)).toMatch(/too many levels of symbolic links in loop/);
  // ${…} nested 100 000 deep overflowed the stack.
  const deepSub = await build('', await layerTar([{ name: 'Dockerfile', content: `FROM ${IMAGE}\nENV a=${deep(100_000)}\n` }]));
  expect(err(deepSub)).toMatch(/substitutions nested more than 100 deep/);
  // A glob class out of order was a SyntaxError from RegExp.
  const glob = await build('', await layerTar([{ name: 'Dockerfile', content: `FROM ${IMAGE}\nCOPY [z-a] /\n` }]));
  expect(err(glob)).toBe('COPY failed: syntax error in pattern [z-a]');
  nothingOutside();
  expect(await ping(d.socket)).toBe(true);
}, 120_000);
