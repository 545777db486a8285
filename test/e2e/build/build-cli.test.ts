/**
 * `docker build` (the real docker CLI, classic builder) against berthd: every
 * instruction, multi-stage, the cache (full hits, one changed file), ARG/ENV rules,
 * ONBUILD, .dockerignore, a failing RUN, and hostile contexts refused.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { api, type Daemon } from '../../fixtures/daemon.js';
import { layerTar } from '../../fixtures/images.js';
import { daemonWithBusybox, docker, ok } from '../containers/fixture.js';
import { makeContext, stepCache } from './fixture.js';
import { bzip2Sync, xzSync, zstdSync } from './compress.js';

let d: Daemon;
const classic = { DOCKER_BUILDKIT: '0' };

async function build(args: string[], env: Record<string, string> = classic) {
  const prev = { ...d.env };
  Object.assign(d.env, env);
  try {
    return await docker(d, ['build', ...args], { timeoutMs: 60000 });
  } finally {
    for (const k of Object.keys(env)) delete d.env[k];
    Object.assign(d.env, prev);
  }
}

beforeAll(async () => {
  d = await daemonWithBusybox({ args: ['--build-context-max', '1m'] });
}, 60000);
afterAll(async () => {
  await d?.stop();
});

const MULTI = `# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM \${BASE} AS build
ARG GREETING=hello
ENV OUT=/out \\
    # a comment inside a continuation
    MODE=fast
WORKDIR /src
COPY src/ ./
RUN mkdir -p $OUT && cat *.txt | tr a-z A-Z > $OUT/all.txt && echo "$GREETING" > $OUT/greeting

FROM busybox
LABEL org.test.stage=final note="two words"
MAINTAINER tester <t@example.org>
COPY --from=build --chown=1000:1000 --chmod=750 /out/ /data/
ADD files.tar.gz /opt/
COPY ["with space.txt", "/data/"]
COPY s*.txt /glob/
RUN ["/bin/sh", "-c", "echo exec-form > /exec.txt"]
USER 1000
EXPOSE 8080 53/udp
VOLUME ["/vol"]
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --retries=2 CMD true
SHELL ["/bin/sh", "-ec"]
ONBUILD RUN echo triggered > /tmp/onbuild.txt
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /data/all.txt"]
`;

async function multiContext(): Promise<string> {
  const tarball = gzipSync(await layerTar([{ name: 'pkg/', type: 'directory' }, { name: 'pkg/readme', content: 'from a tar\n' }]));
  return makeContext({
    Dockerfile: MULTI,
    'src/a.txt': 'alpha\n',
    'src/b.txt': 'beta\n',
    'files.tar.gz': tarball,
    'with space.txt': 'spaced\n',
    's1.txt': 'one\n',
    's2.txt': 'two\n',
  });
}

test('a multi-stage Dockerfile with every instruction builds, runs, and rebuilds from the cache', async () => {
  const ctx = await multiContext();
  const first = await build(['-t', 'multi:1', '-t', 'multi:alias', ctx]);
  expect(first.stderr + first.stdout).toContain('Successfully tagged multi:1');
  expect(first.code).toBe(0);
  expect(first.stdout).toContain('Successfully tagged multi:alias');
  expect(first.stderr + first.stdout).toContain('syntax directive');

  expect(await ok(d, ['run', '--rm', 'multi:1'])).toBe('ALPHA\nBETA');
  expect(await ok(d, ['run', '--rm', '--entrypoint', 'sh', 'multi:1', '-c', 'cat /data/greeting /opt/pkg/readme /data/"with space.txt" /exec.txt; ls /glob; ls -ln /data/all.txt'])).toMatch(
    /^hello\nfrom a tar\nspaced\nexec-form\ns1.txt\ns2.txt\n-rwxr-x--- +1 1000 +1000 .*\/data\/all.txt$/,
  );

  const [img] = JSON.parse(await ok(d, ['image', 'inspect', 'multi:1']));
  const c = img.Config;
  expect(c.Labels).toEqual({ 'org.test.stage': 'final', note: 'two words' });
  expect(img.Author).toBe('tester <t@example.org>');
  expect(c.User).toBe('1000');
  expect(c.ExposedPorts).toEqual({ '8080/tcp': {}, '53/udp': {} });
  expect(c.Volumes).toEqual({ '/vol': {} });
  expect(c.StopSignal).toBe('SIGINT');
  expect(c.Healthcheck).toEqual({ Test: ['CMD-SHELL', 'true'], Interval: 5e9, Retries: 2 });
  expect(c.Shell).toEqual(['/bin/sh', '-ec']);
  expect(c.OnBuild).toEqual(['RUN echo triggered > /tmp/onbuild.txt']);
  expect(c.Entrypoint).toEqual(['/bin/sh', '-c']);
  expect(c.Cmd).toEqual(['cat /data/all.txt']);
  expect((c.Env ?? []).some((e: string) => e.startsWith('OUT='))).toBe(false);

  const hist = (await ok(d, ['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Size}}', 'multi:1'])).split('\n');
  expect(hist[0]).toBe('/bin/sh -ec #(nop)  CMD ["cat /data/all.txt"]|0B');
  expect(hist.some((h) => /^\/bin\/sh -c #\(nop\) COPY --chown=1000:1000dir:[0-9a-f]{64} in \/data\/ \|/.test(h))).toBe(true);
  expect(hist.some((h) => h.startsWith('/bin/sh -c echo exec-form > /exec.txt|'))).toBe(true);

  // The plain `docker build` (no DOCKER_BUILDKIT) uses this builder too, and everything comes from the cache.
  const again = await build(['-t', 'multi:2', ctx], {});
  expect(again.code).toBe(0);
  const steps = stepCache(again.stdout);
  const expectCached = steps.filter((s) => !/^(FROM|ARG BASE)/.test(s.step));
  expect(expectCached.every((s) => s.cached)).toBe(true);
  expect(await ok(d, ['image', 'inspect', '-f', '{{.Id}}', 'multi:2'])).toBe(img.Id);

  // ONBUILD triggers run in the child build.
  const child = makeContext({ Dockerfile: 'FROM multi:1\nRUN ["cat", "/tmp/onbuild.txt"]\n' });
  const cb = await build(['-t', 'child:1', child]);
  expect(cb.code).toBe(0);
  expect(cb.stdout).toContain('# Executing 1 build trigger');
  expect(cb.stdout).toContain('triggered');
  const [ci] = JSON.parse(await ok(d, ['image', 'inspect', 'child:1']));
  expect(ci.Config.OnBuild ?? []).toEqual([]);
}, 120000);

test('a one-file change invalidates exactly the steps from its COPY on; --no-cache rebuilds all', async () => {
  const ctx = makeContext({
    Dockerfile: 'FROM busybox\nENV A=1\nCOPY a.txt /a.txt\nRUN cat /a.txt > /copy.txt\nCOPY b.txt /b.txt\nRUN cat /b.txt\nCMD ["cat", "/b.txt"]\n',
    'a.txt': 'a\n',
    'b.txt': 'b\n',
  });
  expect((await build(['-t', 'inval:1', ctx])).code).toBe(0);
  writeFileSync(join(ctx, 'b.txt'), 'b changed\n');
  const r = await build(['-t', 'inval:2', ctx]);
  expect(r.code).toBe(0);
  expect(stepCache(r.stdout).map((s) => s.cached)).toEqual([false, true, true, true, false, false, false]);
  expect(await ok(d, ['run', '--rm', 'inval:2'])).toBe('b changed');
  // Only mtimes change: still a hit.
  execFileSync('touch', ['-d', '2001-01-01', join(ctx, 'a.txt'), join(ctx, 'b.txt')]);
  expect(stepCache((await build([ctx])).stdout).slice(1).every((s) => s.cached)).toBe(true);
  const nc = await build(['--no-cache', ctx]);
  expect(stepCache(nc.stdout).some((s) => s.cached)).toBe(false);
}, 90000);

test('ARG and ENV: defaults, --build-arg, ARG before FROM, ENV over ARG, unused args warned', async () => {
  const ctx = makeContext({
    Dockerfile: [
      'ARG V=global',
      'FROM busybox',
      'ARG V',
      'ARG W=default',
      'ARG D=${V:-none}-suffix',
      'ENV W=env-wins X=${D}',
      'RUN echo "V=$V W=$W D=$D X=$X P=$http_proxy" > /args.txt',
      'CMD ["cat", "/args.txt"]',
    ].join('\n'),
  });
  const r = await build(['-t', 'args:1', '--build-arg', 'V=given', '--build-arg', 'W=ignored', '--build-arg', 'UNUSED=1', '--build-arg', 'http_proxy=http://proxy.invalid:3128', ctx]);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('[Warning] One or more build-args [UNUSED] were not consumed');
  expect(await ok(d, ['run', '--rm', 'args:1'])).toBe('V=given W=env-wins D=given-suffix X=given-suffix P=http://proxy.invalid:3128');
  const hist = await ok(d, ['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'args:1']);
  // A predefined proxy arg reaches RUN but neither the history nor the image's Env.
  expect(hist).toContain('|2 D=given-suffix V=given /bin/sh -c echo');
  expect(hist).not.toContain('proxy.invalid');
  expect(await ok(d, ['image', 'inspect', '-f', '{{json .Config.Env}}', 'args:1'])).not.toContain('proxy');
  const r2 = await build(['-t', 'args:2', ctx]);
  expect(await ok(d, ['run', '--rm', 'args:2'])).toBe('V=global W=env-wins D=global-suffix X=global-suffix P=');
  expect(stepCache(r2.stdout).find((s) => s.step.startsWith('RUN'))!.cached).toBe(false);
}, 60000);

test('.dockerignore with exceptions; -f and --target', async () => {
  const ctx = makeContext({
    'build/Dockerfile.custom': 'FROM busybox AS one\nCOPY . /ctx/\nRUN find /ctx -type f | sort > /list\nFROM one AS two\nRUN false\n',
    '.dockerignore': '*.log\nsecret\n!secret/keep.txt\nbuild\n',
    'app.txt': 'x',
    'debug.log': 'x',
    'secret/key': 'x',
    'secret/keep.txt': 'x',
    'sub/nested.log': 'kept: *.log is top-level only',
  });
  const r = await build(['-f', join(ctx, 'build/Dockerfile.custom'), '--target', 'one', '-t', 'ign:1', ctx]);
  expect(r.code).toBe(0);
  expect(await ok(d, ['run', '--rm', 'ign:1', 'cat', '/list'])).toBe(['/ctx/.dockerignore', '/ctx/app.txt', '/ctx/secret/keep.txt', '/ctx/sub/nested.log'].join('\n'));
}, 60000);

test('ADD unpacks tars in every compression (zstd, bzip2, xz too) and copies a compressed file that is not a tar', async () => {
  const tar = await layerTar([{ name: 'pkg/readme', content: 'from a tar\n' }]);
  const ctx = makeContext({
    Dockerfile: 'FROM busybox\nADD a.tar.zst /zst/\nADD a.tar.bz2 /bz2/\nADD a.tar.xz /xz/\nADD notes.txt.gz /gz/\nADD short.gz /gz/\n',
    'a.tar.zst': zstdSync(tar), 'a.tar.bz2': bzip2Sync(tar), 'a.tar.xz': xzSync(tar),
    'notes.txt.gz': gzipSync('plain notes, not a tar\n'), 'short.gz': gzipSync('x'),
  });
  const r = await build(['-t', 'add-kinds:1', ctx]);
  expect(r.code).toBe(0);
  expect(await ok(d, ['run', '--rm', 'add-kinds:1', 'sh', '-c', 'cat /zst/pkg/readme /bz2/pkg/readme /xz/pkg/readme; ls /gz; gunzip -c /gz/notes.txt.gz'])).toBe(
    'from a tar\nfrom a tar\nfrom a tar\nnotes.txt.gz\nshort.gz\nplain notes, not a tar',
  );
}, 60000);

test('a failing RUN exits with its code and message and leaves no container behind', async () => {
  const before = await ok(d, ['ps', '-aq']);
  const ctx = makeContext({ Dockerfile: 'FROM busybox\nRUN echo about to fail && exit 3\n' });
  const r = await build([ctx]);
  expect(r.code).toBe(3);
  expect(r.stdout).toContain('about to fail');
  expect(r.stderr).toContain("The command '/bin/sh -c echo about to fail && exit 3' returned a non-zero code: 3");
  expect(await ok(d, ['ps', '-aq'])).toBe(before);
}, 60000);

test('hostile contexts are refused: .., absolute sources, symlinks out, escaping tar entries, oversize', async () => {
  for (const [df, want] of [
    ['COPY ../etc/passwd /x', 'forbidden path outside the build context: ../etc/passwd'],
    ['COPY /etc/passwd /x', 'absolute source paths are refused'],
    ['COPY out/passwd /x', 'forbidden path outside the build context: out/passwd'],
    ['COPY up/x /x', 'forbidden path outside the build context: up/x'],
    ['RUN <<EOF\necho hi\nEOF', 'heredocs'],
  ]) {
    const ctx = makeContext({ Dockerfile: `FROM busybox\n${df}\n` });
    symlinkSync('/etc', join(ctx, 'out'));
    symlinkSync('../..', join(ctx, 'up'));
    const r = await build([ctx]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(want);
  }
  const evil = await layerTar([{ name: 'Dockerfile', content: 'FROM busybox\n' }, { name: '../../escaped', content: 'x' }]);
  const res = await api(d, 'POST', '/v1.47/build', evil);
  expect(res.status).toBe(400);
  expect(res.body.toString()).toContain('points outside the context');
  expect(execFileSync('sh', ['-c', `find ${d.dataRoot} -name escaped | wc -l`]).toString().trim()).toBe('0');

  const big = makeContext({ Dockerfile: 'FROM busybox\n', 'big.bin': Buffer.alloc(2 << 20, 1) });
  const r = await build([big]);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain('larger than the engine');
  mkdirSync(join(big, 'unused'));
}, 60000);
