/**
 * Pull + unpack of a debootstrap-sized image (~50 MB gzip layer) from a local
 * registry: berthd vs Debian's dockerd, in one run, with `tar -xzf` of the same
 * layer as the floor. Prints min/median (ms) and ratios. Run: bench/pull.sh
 * With PULL_BREAKDOWN=1 (bench/pull.sh --breakdown), berthd also traces its stages
 * (BERTHD_TRACE, engine/trace.ts) and bench/lib/breakdown.mjs prints them per pull.
 * PULL_PEER=DIR (a built checkout of berth, e.g. main's) adds its berthd as a peer,
 * for a before/after in one run.
 * The data-roots and the floor's directory are on an ext4 file system of the run's own
 * (a loop device, with a journal, as Debian makes ext4): without a journal, as this
 * machine's root is, ext4 skips inodes deleted in the last 60-300 s when it allocates,
 * and every round of extracts and removals made the next round slower, for all three
 * alike (tar -xzf 0.85 s in the first round, 6 s by the fourth). PULL_FS=here keeps
 * them in the temp dir instead.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../src/common/paths.js';
import { startDaemon } from '../test/fixtures/daemon.js';
import { imageFromLayers, pushImage } from '../test/fixtures/images.js';
import { startRegistry } from '../test/fixtures/registry.js';
import { childPids, startDockerd } from './lib/dockerd.js';

const RUNS = Number(process.env.RUNS ?? 7);
const DOCKER = '/usr/local/bin/docker';

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return `sha256:${h.digest('hex')}`;
}

/** CPU ms (user + system, all threads, and of children they have reaped, e.g. tar) used so far by these processes. */
function cpuMs(pids: number[], only?: 'self' | 'children'): number {
  const hz = 100;
  return pids.reduce((n, pid) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    const self = f[11] + f[12];
    const children = f[13] + f[14];
    return n + ((only === 'self' ? self : only === 'children' ? children : self + children) * 1000) / hz;
  }, 0);
}

/** Runs prepare (untimed) then command (timed): wall ms, and CPU ms of the daemon pids (or of the command). */
function timed(prepare: string, command: string, pids: () => number[]): { wall: number; cpu: number; self: number } {
  // Each case starts with the previous one's writes on disk: otherwise its writeback
  // throttles whichever case comes next, and later rounds of all three slow down.
  execFileSync('sh', ['-c', `${prepare}; sync`], { stdio: 'ignore' });
  const ps = pids();
  const c0 = cpuMs(ps);
  const s0 = cpuMs(ps, 'self');
  const t = performance.now();
  const r = spawnSync('sh', ['-c', ps.length ? command : `/usr/bin/time -f '%U %S' ${command}`], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const wall = performance.now() - t;
  if (r.status !== 0) throw new Error(`${command} failed: ${r.stderr}`);
  if (ps.length) return { wall, cpu: cpuMs(ps) - c0, self: cpuMs(ps, 'self') - s0 };
  const [u, sys] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return { wall, cpu: (u + sys) * 1000, self: 0 };
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

const tmp = mkdtempSync(join(tmpdir(), 'bench-pull-'));
const scratch = process.env.PULL_FS === 'here' ? undefined : journaledFs(tmp);
const work = scratch?.dir ?? tmp;
const trace = process.env.PULL_BREAKDOWN ? join(tmp, 'trace.jsonl') : undefined;
const registry = await startRegistry();
const berthd = await startDaemon({ dataRoot: join(work, 'berthd'), ...(trace ? { env: { BERTHD_TRACE: trace } } : {}) });
const dockerd = await startDockerd(work);
const peerRoot = process.env.PULL_PEER;
// Its own bin/berthd (its dist, its berth-runtime), as the test fixture starts one.
const peer = peerRoot ? await startDaemon({ dataRoot: join(work, 'peer'), env: { BERTHD_TRACE: '' }, entry: join(peerRoot, 'bin', 'berthd') }) : undefined;
try {
  await pushImage(registry.url, 'bench/debootstrap', 'latest', imageFromLayers([layer], { cmd: ['bash'] }));
  const ref = `${registry.host}/bench/debootstrap:latest`;
  const dir = join(work, 'x');
  const cases: Record<string, readonly [string, string, () => number[]]> = {
    ...(peer ? { peer: [`${DOCKER} -H unix://${peer.socket} rmi -f ${ref} >/dev/null 2>&1 || true`, `${DOCKER} -H unix://${peer.socket} pull -q ${ref}`, () => [peer.pid]] as const } : {}),
    berthd: [`${DOCKER} -H unix://${berthd.socket} rmi -f ${ref} >/dev/null 2>&1 || true`, `${DOCKER} -H unix://${berthd.socket} pull -q ${ref}`, () => [berthd.pid]],
    dockerd: [`${DOCKER} -H unix://${dockerd.socket} rmi -f ${ref} >/dev/null 2>&1 || true`, `${DOCKER} -H unix://${dockerd.socket} pull -q ${ref}`, () => [dockerd.pid, ...childPids(dockerd.pid)]],
    floor: [`rm -rf ${dir} && mkdir ${dir}`, `tar -xzf ${gz} -C ${dir}`, () => []],
  };
  // Interleaved rounds: on a shared, noisy machine each round sees the same load for all three.
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  const berthdOwn: number[] = [];
  const names = Object.keys(cases);
  for (let i = 0; i < RUNS; i++) {
    // Each round starts with another case: a machine that slows down as it works (CPU
    // credits, a cache filling up) then weighs on every case alike.
    for (const k of [...names.slice(i % names.length), ...names.slice(0, i % names.length)]) {
      const r = timed(cases[k][0], cases[k][1], cases[k][2]);
      if (k === 'berthd') berthdOwn.push(r.self);
      times[k].push(r.wall);
      cpu[k].push(r.cpu);
    }
    console.log(`round ${i + 1}: ${peer ? `peer ${times.peer[i].toFixed(0)} ms (cpu ${cpu.peer[i].toFixed(0)}), ` : ''}berthd ${times.berthd[i].toFixed(0)} ms (cpu ${cpu.berthd[i].toFixed(0)}), dockerd ${times.dockerd[i].toFixed(0)} ms (cpu ${cpu.dockerd[i].toFixed(0)}), tar -xzf ${times.floor[i].toFixed(0)} ms (cpu ${cpu.floor[i].toFixed(0)})`);
  }
  const b = stats(times.berthd);
  const d = stats(times.dockerd);
  const f = stats(times.floor);
  const cb = stats(cpu.berthd);
  const cd = stats(cpu.dockerd);
  const cf = stats(cpu.floor);
  const row = (n: string, r: { min: number; median: number }) => console.log(`${n.padEnd(18)} min ${r.min.toFixed(0).padStart(6)} ms   median ${r.median.toFixed(0).padStart(6)} ms`);
  console.log('\npull + unpack, ms');
  row('berthd', b);
  row('dockerd 20.10', d);
  row('tar -xzf floor', f);
  if (peer) row(`peer (${peerRoot})`, stats(times.peer));
  console.log(`berthd / dockerd: min ${(b.min / d.min).toFixed(2)}x, median ${(b.median / d.median).toFixed(2)}x`);
  console.log(`berthd / floor:   min ${(b.min / f.min).toFixed(2)}x, median ${(b.median / f.median).toFixed(2)}x`);
  if (peer) console.log(`peer / floor:     min ${(stats(times.peer).min / f.min).toFixed(2)}x, median ${(stats(times.peer).median / f.median).toFixed(2)}x`);
  console.log('\nCPU time used (user + system, ms; steadier than wall time on a loaded machine)');
  row('berthd', cb);
  row('dockerd+containerd', cd);
  row('tar -xzf + gzip', cf);
  if (peer) row('peer', stats(cpu.peer));
  console.log(`berthd / dockerd: min ${(cb.min / cd.min).toFixed(2)}x, median ${(cb.median / cd.median).toFixed(2)}x; berthd / floor: min ${(cb.min / cf.min).toFixed(2)}x, median ${(cb.median / cf.median).toFixed(2)}x`);
  if (trace) {
    await new Promise((r) => setTimeout(r, 500)); // the last pull's trace lines
    const own = stats(berthdOwn);
    console.log(`\nberthd's CPU per pull: node itself min ${own.min.toFixed(0)} / median ${own.median.toFixed(0)} ms, the rest in berth-runtime unpack`);
    console.log(`\nberthd's stages per pull (load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})`);
    writeFileSync(join(tmp, 'walls.json'), JSON.stringify(times.berthd));
    execFileSync('node', [join(projectRoot(), 'bench', 'lib', 'breakdown.mjs'), trace, join(tmp, 'walls.json')], { stdio: 'inherit', env: { ...process.env, BREAKDOWN_OPENS: 'api POST /images/create' } });
  }
} finally {
  await dockerd.stop();
  await berthd.stop();
  await peer?.stop();
  await registry.stop();
  scratch?.remove();
  rmSync(tmp, { recursive: true, force: true });
}

/** A fresh 8 GB (sparse) journaled ext4 on a loop device with direct I/O, mounted under dir. */
function journaledFs(dir: string): { dir: string; remove(): void } {
  const image = join(dir, 'fs.img');
  const mnt = join(dir, 'fs');
  execFileSync('truncate', ['-s', '8G', image]);
  execFileSync('mkfs.ext4', ['-q', '-F', image]);
  const dev = execFileSync('losetup', ['-f', '--show', '--direct-io=on', image], { encoding: 'utf8' }).trim();
  mkdirSync(mnt);
  try {
    execFileSync('mount', [dev, mnt]);
  } catch (err) {
    spawnSync('losetup', ['-d', dev]);
    throw err;
  }
  return {
    dir: mnt,
    remove() {
      if (spawnSync('umount', [mnt]).status !== 0) spawnSync('umount', ['-l', mnt]);
      spawnSync('losetup', ['-d', dev]);
    },
  };
}
