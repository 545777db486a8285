/**
 * Pull + unpack of a debootstrap-sized image (~50 MB gzip layer) from a local
 * registry: berthd vs Debian's dockerd, in one run, with `tar -xzf` of the same
 * layer as the floor. Prints min/median (ms) and ratios. Run: bench/pull.sh
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../src/common/paths.js';
import { startDaemon } from '../test/fixtures/daemon.js';
import { imageFromLayers, pushImage } from '../test/fixtures/images.js';
import { startRegistry } from '../test/fixtures/registry.js';
import { startDockerd } from './lib/dockerd.js';

const RUNS = Number(process.env.RUNS ?? 7);
const DOCKER = '/usr/local/bin/docker';

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return `sha256:${h.digest('hex')}`;
}

/** Runs prepare (untimed) then command (timed); returns ms. */
function timed(prepare: string, command: string): number {
  execFileSync('sh', ['-c', prepare], { stdio: 'ignore' });
  const t = performance.now();
  execFileSync('sh', ['-c', command], { stdio: ['ignore', 'ignore', 'inherit'] });
  return performance.now() - t;
}

function stats(xs: number[]): { min: number; median: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2 };
}

const cacheDir = join(projectRoot(), 'bench', '.cache');
execFileSync(join(projectRoot(), 'bench', 'debootstrap-image.sh'), { stdio: ['ignore', 'ignore', 'inherit'] });
const gz = join(cacheDir, 'debootstrap-layer.tar.gz');
const raw = join(cacheDir, 'debootstrap-layer.tar');
const blob = readFileSync(gz);
const layer = { blob, digest: await sha256File(gz), diffId: await sha256File(raw), mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' };
console.log(`layer: ${(blob.length / 1e6).toFixed(1)} MB gzip, ${(readFileSync(raw).length / 1e6).toFixed(1)} MB unpacked`);

const registry = await startRegistry();
const berthd = await startDaemon();
const dockerd = await startDockerd();
const tmp = mkdtempSync(join(tmpdir(), 'bench-pull-'));
try {
  await pushImage(registry.url, 'bench/debootstrap', 'latest', imageFromLayers([layer], { cmd: ['bash'] }));
  const ref = `${registry.host}/bench/debootstrap:latest`;
  const dir = join(tmp, 'x');
  const cases = {
    berthd: [`${DOCKER} -H unix://${berthd.socket} rmi -f ${ref} >/dev/null 2>&1 || true`, `${DOCKER} -H unix://${berthd.socket} pull -q ${ref}`],
    dockerd: [`${DOCKER} -H unix://${dockerd.socket} rmi -f ${ref} >/dev/null 2>&1 || true`, `${DOCKER} -H unix://${dockerd.socket} pull -q ${ref}`],
    floor: [`rm -rf ${dir} && mkdir ${dir}`, `tar -xzf ${gz} -C ${dir}`],
  } as const;
  // Interleaved rounds: on a shared, noisy machine each round sees the same load for all three.
  const times: Record<keyof typeof cases, number[]> = { berthd: [], dockerd: [], floor: [] };
  for (let i = 0; i < RUNS; i++) {
    for (const k of Object.keys(cases) as Array<keyof typeof cases>) times[k].push(timed(cases[k][0], cases[k][1]));
    console.log(`round ${i + 1}: berthd ${times.berthd[i].toFixed(0)} ms, dockerd ${times.dockerd[i].toFixed(0)} ms, tar -xzf ${times.floor[i].toFixed(0)} ms`);
  }
  const b = stats(times.berthd);
  const d = stats(times.dockerd);
  const f = stats(times.floor);
  const row = (n: string, r: { min: number; median: number }) => console.log(`${n.padEnd(18)} min ${r.min.toFixed(0).padStart(6)} ms   median ${r.median.toFixed(0).padStart(6)} ms`);
  console.log('\npull + unpack, ms');
  row('berthd', b);
  row('dockerd 20.10', d);
  row('tar -xzf floor', f);
  console.log(`berthd / dockerd: min ${(b.min / d.min).toFixed(2)}x, median ${(b.median / d.median).toFixed(2)}x`);
  console.log(`berthd / floor:   min ${(b.min / f.min).toFixed(2)}x, median ${(b.median / f.median).toFixed(2)}x`);
} finally {
  await dockerd.stop();
  await berthd.stop();
  await registry.stop();
  rmSync(tmp, { recursive: true, force: true });
}
