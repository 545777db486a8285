/**
 * Machine benchmarks on namespace hosts (test/fixtures/sshhosts.ts), run by
 * bench/machine.sh: create -d generic to engine ready on a fresh host, a second
 * create when the bundle is already there, and the OpenSSH floor on the same host
 * in the same run (`ssh host true`, and scp of the same bundle).
 * Docker Machine itself is not on this machine (its generic driver installs Docker
 * from the network, which these machines do not have).
 * BASE=DIR (a built checkout of another berth, e.g. main) runs its create beside this
 * one's in every round, and its 10-at-once too: a before/after in one run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSshHosts } from '../test/fixtures/sshhosts.js';
import { ensureBundle } from '../src/machine/bundle/build.js';

const runs = Number(process.env.RUNS ?? 5);
const berth = join(process.cwd(), 'bin', 'berth');
const base = process.env.BASE ? join(process.env.BASE, 'bin', 'berth') : undefined;
const ms = (t: bigint) => Number(t / 1000n) / 1000;
const stats = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return { min: s[0], median: s[Math.floor(s.length / 2)] }; };
const fmt = (name: string, xs: number[]) => { const { min, median } = stats(xs); return `${name.padEnd(46)} min ${min.toFixed(0).padStart(6)} ms   median ${median.toFixed(0).padStart(6)} ms`; };

function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return ms(process.hrtime.bigint() - t);
}

/** The same without blocking: for creates that run at once. */
function timedAsync(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  const t = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d) => { err += d; });
    c.on('close', (code) => (code === 0 ? resolve(ms(process.hrtime.bigint() - t)) : reject(new Error(`${cmd} ${args.join(' ')} failed: ${err}`))));
  });
}

const bundle = await ensureBundle();
console.log(`engine bundle: ${(bundle.size / 1e6).toFixed(1)} MB gzip (berthd SEA + berth-runtime)`);
const fresh: number[] = [];
const again: number[] = [];
const baseFresh: number[] = [];
const baseAgain: number[] = [];
const sshFloor: number[] = [];
const scpFloor: number[] = [];
for (let i = 0; i < runs; i++) {
  const f = await startSshHosts(base ? 2 : 1);
  const store = mkdtempSync(join(tmpdir(), 'berth-bench-store-'));
  const env = { BERTH_STORAGE_PATH: store };
  const ip = f.hosts[0].ip;
  const ssh = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=quiet', '-i', f.keyPath];
  try {
    sshFloor.push(timed('ssh', [...ssh, `root@${ip}`, 'true']));
    scpFloor.push(timed('scp', [...ssh, (await ensureBundle()).path, `root@${ip}:/opt/bundle.tgz`]));
    const create = (bin: string, name: string, hostIp = ip) => timed(bin, ['machine', 'create', '-d', 'generic', '--generic-ip-address', hostIp, '--generic-ssh-key', f.keyPath, name], env);
    // The peer gets its own fresh host; who goes first alternates.
    const rounds: [string, number[], number[], string][] = [[berth, fresh, again, ip]];
    if (base) rounds.push([base, baseFresh, baseAgain, f.hosts[1].ip]);
    if (i % 2) rounds.reverse();
    for (const [bin, fr, ag, hostIp] of rounds) {
      const tag = bin === berth ? 'b' : 'p';
      fr.push(create(bin, `${tag}1`, hostIp));
      timed(bin, ['machine', 'rm', '-y', `${tag}1`], env);
      ag.push(create(bin, `${tag}2`, hostIp));
    }
  } finally {
    f.cleanup();
    rmSync(store, { recursive: true, force: true });
  }
}
console.log(fmt('create -d generic, fresh host, to engine ready', fresh));
console.log(fmt('create again, bundle already on the host', again));
if (base) {
  console.log(fmt('BASE: create -d generic, fresh host', baseFresh));
  console.log(fmt('BASE: create again, bundle already on the host', baseAgain));
  console.log(`ratio of minimums this/BASE: fresh ${(stats(fresh).min / stats(baseFresh).min).toFixed(2)}, again ${(stats(again).min / stats(baseAgain).min).toFixed(2)}`);
}
console.log(fmt('floor: ssh root@host true (OpenSSH)', sshFloor));
console.log(fmt('floor: scp of the same bundle (OpenSSH)', scpFloor));
console.log(`ratio fresh create / (ssh + scp floor): ${(stats(fresh).median / (stats(sshFloor).median + stats(scpFloor).median)).toFixed(2)}`);

// AT_ONCE fresh hosts: one create alone, then AT_ONCE creates started together (one command each).
const atOnce = Number(process.env.AT_ONCE ?? 10);
if (atOnce > 1) {
  for (const [label, bin] of [['this', berth], ...(base ? [['BASE', base]] : [])] as [string, string][]) {
    const f = await startSshHosts(atOnce + 1);
    const store = mkdtempSync(join(tmpdir(), 'berth-bench-store-'));
    const create = (i: number) => timedAsync(bin, ['machine', 'create', '-d', 'generic', '--generic-ip-address', f.hosts[i].ip, '--generic-ssh-key', f.keyPath, `p${i}`], { BERTH_STORAGE_PATH: store });
    try {
      // The whole machine's CPU time: the namespace hosts (sshd, the bundle's unpack, their
      // engines) share this machine's cores with the CLIs.
      const c0 = machineCpuMs();
      const one = await create(0);
      const c1 = machineCpuMs();
      const t = process.hrtime.bigint();
      const each = await Promise.all(Array.from({ length: atOnce }, (_, i) => create(i + 1)));
      const all = ms(process.hrtime.bigint() - t);
      const c2 = machineCpuMs();
      console.log(`${label}: create on ${atOnce} fresh hosts at once: all done in ${all.toFixed(0)} ms (each ${stats(each).min.toFixed(0)}-${Math.max(...each).toFixed(0)} ms); one alone just before: ${one.toFixed(0)} ms; ratio ${(all / one).toFixed(2)}`);
      const cores = availableParallelism();
      console.log(`${label}: CPU time of the whole machine: one create ${(c1 - c0).toFixed(0)} ms, the ${atOnce} ${(c2 - c1).toFixed(0)} ms, which ${cores} cores take at least ${((c2 - c1) / cores).toFixed(0)} ms to give`);
    } finally {
      f.cleanup();
      rmSync(store, { recursive: true, force: true });
    }
  }
}
console.log(`load average: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);

/** CPU time used by the whole machine so far (user, nice, system, irq, softirq), ms. */
function machineCpuMs(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return ((f[0] + f[1] + f[2] + f[5] + f[6]) * 1000) / 100;
}
process.exit(0);
