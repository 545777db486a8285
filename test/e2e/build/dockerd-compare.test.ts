/**
 * The same build with the docker CLI against berthd and against Debian's dockerd
 * (20.10, classic builder): the images have equal config, equal history (created_by
 * with COPY checksums masked, empty_layer) and equal layer contents (docker save:
 * each layer's tar listing, mtimes aside).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startDockerd, type Dockerd } from '../../../bench/lib/dockerd.js';
import { startDaemon, type Daemon } from '../../fixtures/daemon.js';
import { layerTar } from '../../fixtures/images.js';
import { DOCKER_CLI } from '../../fixtures/docker-cli.js';
import { busyboxRootfsTar } from '../containers/fixture.js';
import { makeContext } from './fixture.js';

const DOCKERFILE = `ARG BASE=busybox
FROM \${BASE} AS build
ARG GREETING=hello
ENV OUT=/out MODE=fast
WORKDIR /src
COPY src/ ./
RUN mkdir -p $OUT && cat *.txt | tr a-z A-Z > $OUT/all.txt && echo "$GREETING" > $OUT/greeting && rm -f /src/b.txt

FROM busybox
LABEL org.test.stage=final note="two words"
MAINTAINER tester
COPY --from=build --chown=1000:1000 /out/ /data/
ADD files.tar.gz /opt/
ADD notes.txt.gz /opt/
COPY ["with space.txt", "s*.txt", "/data/more/"]
RUN ["/bin/sh", "-c", "echo exec-form > /exec.txt && mkdir -p /var/empty && rm /data/more/s2.txt"]
WORKDIR /app
USER 1000:1000
EXPOSE 8080 53/udp
VOLUME ["/vol"]
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --retries=2 CMD true
SHELL ["/bin/sh", "-ec"]
ONBUILD RUN echo triggered
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /data/all.txt"]
`;

const KEYS = ['Env', 'Cmd', 'Entrypoint', 'WorkingDir', 'User', 'ExposedPorts', 'Volumes', 'Labels', 'StopSignal', 'Healthcheck', 'Shell', 'OnBuild'];

let berthd: Daemon;
let dockerd: Dockerd;
let work: string;

function cli(socket: string, args: string[]): string {
  return execFileSync(DOCKER_CLI, args, { env: { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_BUILDKIT: '0' }, maxBuffer: 1 << 26 }).toString();
}

/** Config, history and per-layer listings of `image` as `docker save` has them. */
function saved(socket: string, image: string, name: string) {
  const dir = join(work, name);
  mkdirSync(dir);
  cli(socket, ['save', '-o', join(dir, 'image.tar'), image]);
  execFileSync('tar', ['-C', dir, '-xf', join(dir, 'image.tar')]);
  const [manifest] = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const config = JSON.parse(readFileSync(join(dir, manifest.Config), 'utf8'));
  const layers = (manifest.Layers as string[]).map((l) =>
    execFileSync('tar', ['--numeric-owner', '-tvf', join(dir, l)]).toString().split('\n').filter(Boolean)
      // mode owner size name [-> link]; the date and time columns dropped
      .map((line) => line.split(/\s+/).filter((_, i) => i !== 3 && i !== 4).join(' ')).sort(),
  );
  const history = (config.history as Array<{ created_by?: string; empty_layer?: boolean }>).map((h) => ({
    created_by: (h.created_by ?? '').replace(/(COPY|ADD) ((?:--chown=\S+?)?)(file|dir|multi):[0-9a-f]{64}/, '$1 $2$3:<sum>'),
    empty_layer: !!h.empty_layer,
  }));
  const cfg = Object.fromEntries(KEYS.map((k) => [k, emptyToNull(config.config?.[k])]));
  return { config: cfg, author: config.author ?? '', history, layers };
}

function emptyToNull(v: unknown): unknown {
  if (v === undefined || v === '' || (Array.isArray(v) && !v.length) || (v && typeof v === 'object' && !Object.keys(v).length)) return null;
  return v;
}

beforeAll(async () => {
  if (!existsSync('/usr/sbin/dockerd')) throw new Error('dockerd is needed for this test: apt-get install docker.io');
  work = mkdtempSync(join(tmpdir(), 'berth-build-cmp-'));
  [berthd, dockerd] = await Promise.all([startDaemon(), startDockerd()]);
  const rootfs = await busyboxRootfsTar();
  for (const s of [berthd.socket, dockerd.socket]) cli(s, ['import', '--change', 'CMD ["sh"]', rootfs, 'busybox:latest']);
}, 120000);

afterAll(async () => {
  await Promise.all([berthd?.stop(), dockerd?.stop()]);
  if (work) rmSync(work, { recursive: true, force: true });
});

test('berthd and dockerd build the same image from the same Dockerfile', async () => {
  const tarball = gzipSync(await layerTar([{ name: 'pkg/', type: 'directory', mode: 0o755 }, { name: 'pkg/readme', content: 'from a tar\n', mode: 0o644 }]));
  const ctx = makeContext({
    Dockerfile: DOCKERFILE, 'src/a.txt': 'alpha\n', 'src/b.txt': 'beta\n', 'files.tar.gz': tarball, 'notes.txt.gz': gzipSync('not a tar\n'),
    'with space.txt': 'spaced\n', 's1.txt': 'one\n', 's2.txt': 'two\n',
  });
  execFileSync('chmod', ['-R', 'go-w', ctx]);
  for (const s of [berthd.socket, dockerd.socket]) cli(s, ['build', '--network', 'none', '--build-arg', 'GREETING=hi there', '-t', 'cmp:1', ctx]);
  const b = saved(berthd.socket, 'cmp:1', 'berthd');
  const d = saved(dockerd.socket, 'cmp:1', 'dockerd');
  expect(b.config).toEqual(d.config);
  expect(b.author).toEqual(d.author);
  expect(b.history).toEqual(d.history);
  expect(b.layers.length).toBe(d.layers.length);
  // The first layer is each engine's own import of the same rootfs.
  for (let i = 1; i < d.layers.length; i++) expect({ layer: i, files: b.layers[i] }).toEqual({ layer: i, files: d.layers[i] });
}, 120000);

test('commit and import --change give the config dockerd gives, and refuse what it refuses', async () => {
  const changes = [
    'ENV A=1 B="$HOME/two words"', 'ENV C ${A:-x}-$NOPE', 'LABEL a=b "c d"=e', 'EXPOSE 80 81/udp 90-91',
    'VOLUME ["/v", "/w"]', 'WORKDIR /srv', 'WORKDIR rel', 'USER 1:1',
    'HEALTHCHECK --interval=5s --retries=3 CMD true', 'ONBUILD RUN echo later', 'ENTRYPOINT ["/bin/echo"]',
  ];
  const flags = changes.flatMap((c) => ['--change', c]);
  const fsTar = join(work, 'fs.tar');
  writeFileSync(fsTar, await layerTar([{ name: 'f', content: 'x\n' }]));
  const configs = [berthd.socket, dockerd.socket].map((s) => {
    const id = cli(s, ['create', '-e', 'HOME=/home/u', 'busybox', 'sh']).trim();
    cli(s, ['commit', ...flags, id, 'changed:commit']);
    cli(s, ['import', ...flags, '--change', 'CMD echo hi', fsTar, 'changed:import']);
    const inspect = (ref: string) => {
      const c = JSON.parse(cli(s, ['image', 'inspect', '-f', '{{json .Config}}', ref]));
      return Object.fromEntries(KEYS.map((k) => [k, emptyToNull(c[k])]));
    };
    const refused = ['RUN true', 'STOPSIGNAL SIGINT'].map((change) => {
      const r = spawnSync(DOCKER_CLI, ['commit', '--change', change, id, 'changed:no'], { env: { ...process.env, DOCKER_HOST: `unix://${s}` }, encoding: 'utf8' });
      return { code: r.status, said: new RegExp(`${change.split(' ')[0].toLowerCase()} is not a valid change command`).test(r.stderr) };
    });
    return { commit: inspect('changed:commit'), import: inspect('changed:import'), refused };
  });
  expect(configs[0]).toEqual(configs[1]);
  expect(configs[0].refused).toEqual([{ code: 1, said: true }, { code: 1, said: true }]);
  expect(configs[0].commit.Cmd).toBeNull(); // ENTRYPOINT with no CMD among the changes drops the container's
}, 120000);
