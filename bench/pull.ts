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

const RUNS = Number(process.env.RUNS ?? 5);
const DOCKER = '/usr/local/bin/docker';

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return `sha256:${h.digest('hex')}`;
}

function hyperfine(name: string, prepare: string, command: string, out: string): { min: number; median: number } {
  execFileSync('hyperfine', ['--runs', String(RUNS), '--style', 'none', '--prepare', prepare, '--export-json', out, '-n', name, command], { stdio: ['ignore', 'inherit', 'inherit'] });
  const r = JSON.parse(readFileSync(out, 'utf8')).results[0];
  return { min: r.min * 1000, median: r.median * 1000 };
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
  const b = hyperfine('berthd', `${DOCKER} -H unix://${berthd.socket} rmi -f ${ref} >/dev/null 2>&1 || true`, `${DOCKER} -H unix://${berthd.socket} pull -q ${ref}`, join(tmp, 'b.json'));
  const d = hyperfine('dockerd', `${DOCKER} -H unix://${dockerd.socket} rmi -f ${ref} >/dev/null 2>&1 || true`, `${DOCKER} -H unix://${dockerd.socket} pull -q ${ref}`, join(tmp, 'd.json'));
  const dir = join(tmp, 'x');
  const f = hyperfine('tar -xzf (floor)', `rm -rf ${dir} && mkdir ${dir}`, `tar -xzf ${gz} -C ${dir}`, join(tmp, 'f.json'));
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
