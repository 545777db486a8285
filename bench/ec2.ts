/**
 * create -d amazonec2 to engine ready against moto_server, run by bench/ec2.sh: one
 * machine alone, then 5 in one create, in the same run. Each round gets a fresh
 * namespace bridge, a moto subnet with the bridge's CIDR, and SSH hosts already up at
 * the addresses moto hands out first (.4, .5, …), so the wait for SSH is the
 * instance's, not the bench's. Time is split from create's own step timers: "in the
 * driver" is the "Creating the host" step (EC2 calls and waiters), the rest is
 * provisioning (SSH, bundle, certs, engine start).
 * Peer in the same run: -d generic on the same kind of hosts, 1 alone and 5 at once
 * (5 processes), which is the provisioning alone: every "instance" here shares this
 * computer's cores, where EC2 instances each have their own.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImportKeyPairCommand } from '@aws-sdk/client-ec2';
import { startMoto } from '../test/fixtures/moto.js';
import { startSshHosts } from '../test/fixtures/sshhosts.js';
import { ensureBundle } from '../src/machine/bundle/build.js';

const runs = Number(process.env.RUNS ?? 3);
const berth = join(process.cwd(), 'bin', 'berth');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

await ensureBundle();
const moto = await startMoto();

interface Round { wall: number; driver: number; provision: number }

/** One create of `count` machines: wall time, and the slowest machine's driver step. */
async function round(count: number): Promise<Round> {
  const f = await startSshHosts(0);
  const store = mkdtempSync(join(tmpdir(), 'berth-bench-ec2-'));
  try {
    const prefix = f.subnet.replace(/0\/24$/, '');
    await Promise.all(Array.from({ length: count }, (_, i) => f.addHost(`${prefix}${4 + i}`)));
    const { subnetId } = await moto.vpcWithSubnet(f.subnet);
    const names = Array.from({ length: count }, (_, i) => `b${i}`);
    const env = { ...process.env, ...moto.env, BERTH_STORAGE_PATH: store };
    const keyName = `bench-${subnetId}`;
    await moto.client().send(new ImportKeyPairCommand({ KeyName: keyName, PublicKeyMaterial: readFileSync(`${f.keyPath}.pub`) }));
    const t = process.hrtime.bigint();
    const r = spawnSync(berth, ['machine', 'create', '-d', 'amazonec2', '--amazonec2-endpoint', moto.endpoint, '--amazonec2-subnet-id', subnetId,
      '--amazonec2-use-private-address', '--amazonec2-ssh-user', 'root', '--amazonec2-ami', 'ami-785db401',
      '--amazonec2-keypair-name', keyName, '--amazonec2-ssh-keypath', f.keyPath, ...names], { env, encoding: 'utf8' });
    const wall = Number(process.hrtime.bigint() - t) / 1e6;
    if (r.status !== 0) throw new Error(`create failed: ${r.stderr}`);
    // The step timers of the plain renderer: "✔ Creating the host [1.2s]".
    const steps = [...r.stdout.matchAll(/✔ Creating the host \[([\d.]+)(m?s)\]/g)].map((m) => Number(m[1]) * (m[2] === 'ms' ? 1 : 1000));
    if (steps.length !== count) throw new Error(`expected ${count} driver step timers in:\n${r.stdout}`);
    const driver = Math.max(...steps);
    spawnSync(berth, ['machine', 'rm', '-y', '-f', ...names], { env });
    return { wall, driver, provision: wall - driver };
  } finally {
    f.cleanup();
    rmSync(store, { recursive: true, force: true });
  }
}

/** The peer: `count` generic creates at once on fresh namespace hosts; wall time. */
async function genericRound(count: number): Promise<number> {
  const f = await startSshHosts(count);
  const store = mkdtempSync(join(tmpdir(), 'berth-bench-gen-'));
  try {
    const env = { ...process.env, BERTH_STORAGE_PATH: store };
    const t = process.hrtime.bigint();
    const codes = await Promise.all(f.hosts.map((h, i) => new Promise<number>((resolve) => {
      spawn(berth, ['machine', 'create', '-d', 'generic', '--generic-ip-address', h.ip, '--generic-ssh-key', f.keyPath, `g${i}`], { env, stdio: 'ignore' })
        .on('close', (code) => resolve(code ?? -1));
    })));
    const wall = Number(process.hrtime.bigint() - t) / 1e6;
    if (codes.some((c) => c !== 0)) throw new Error(`generic create failed: exit codes ${codes.join(',')}`);
    spawnSync(berth, ['machine', 'rm', '-y', '-f', ...f.hosts.map((_, i) => `g${i}`)], { env });
    return wall;
  } finally {
    f.cleanup();
    rmSync(store, { recursive: true, force: true });
  }
}

const one: Round[] = [];
const five: Round[] = [];
const genOne: number[] = [];
const genFive: number[] = [];
try {
  for (let i = 0; i < runs; i++) {
    one.push(await round(1));
    five.push(await round(5));
    genOne.push(await genericRound(1));
    genFive.push(await genericRound(5));
  }
} finally {
  moto.stop();
}
const line = (name: string, rs: Round[]) => {
  const w = median(rs.map((r) => r.wall));
  const d = median(rs.map((r) => r.driver));
  return `${name.padEnd(34)} median ${w.toFixed(0).padStart(6)} ms   in the driver ${d.toFixed(0).padStart(5)} ms   provisioning ${(w - d).toFixed(0).padStart(6)} ms`;
};
console.log(line('create 1 machine to engine ready', one));
console.log(line('create 5 machines at once', five));
console.log(`ratio 5 at once / 1: ${(median(five.map((r) => r.wall)) / median(one.map((r) => r.wall))).toFixed(2)} (goal <= 2)`);
console.log(`peer -d generic: 1 machine median ${median(genOne).toFixed(0)} ms, 5 at once ${median(genFive).toFixed(0)} ms, ratio ${(median(genFive) / median(genOne)).toFixed(2)}`);
console.log(`amazonec2 / generic, 1 machine: ${(median(one.map((r) => r.wall)) / median(genOne)).toFixed(2)}; 5 at once: ${(median(five.map((r) => r.wall)) / median(genFive)).toFixed(2)}`);
process.exit(0);
