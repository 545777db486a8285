/**
 * kill -9 of `berth machine create / rm / regenerate-certs` against a generic host
 * (a network-namespace SSH host), then the documented repair, then a check that the
 * store and the host converged. Used by machine-create-kill.test.ts and
 * machine-kill.test.ts, and through them by bench/reliability.sh (longer campaigns).
 *
 * Kills come two ways: at a named step (BERTH_MACHINE_CRASH_AT, see
 * src/machine/crashpoint.ts), or from outside after a seeded random delay.
 */
import { expect } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSshHosts, type SshHost, type SshHosts } from '../fixtures/sshhosts.js';
import { berth, berthBin, requireDockerCli, type Run } from '../e2e/machine/helpers.js';

export interface MachineRig {
  f: SshHosts;
  host: SshHost;
  store: string;
  arms: string;
  env: NodeJS.ProcessEnv;
}

/** The machine every kill is aimed at. */
export const NAME = 'k';

/** The seed of the random kills (printed; BERTH_FAULT_SEED replays it). */
export function faultSeed(what: string): number {
  const env = process.env.BERTH_FAULT_SEED;
  if (env !== undefined && !/^\d+$/.test(env)) throw new Error(`BERTH_FAULT_SEED=${env} is not a whole number`);
  const seed = env ? Number(env) : Math.floor(Math.random() * 2 ** 31);
  process.stderr.write(`${what} seed ${seed}: replay with BERTH_FAULT_SEED=${seed}\n`);
  return seed;
}

/** One namespace SSH host and a store of its own, for one test file (call in beforeAll; stop() in afterAll). */
export async function startRig(): Promise<MachineRig & { stop(): void }> {
  requireDockerCli();
  const dirs: string[] = [];
  const temp = (p: string) => { const d = mkdtempSync(join(tmpdir(), p)); dirs.push(d); return d; };
  const f = await startSshHosts(1);
  const store = temp('berth-mkill-store-');
  const arms = temp('berth-mkill-arms-');
  return {
    f, host: f.hosts[0], store, arms,
    env: {
      BERTH_STORAGE_PATH: store, BERTH_MACHINE_CRASH_AT: arms, BERTH_SSH_TIMEOUT: '10', DOCKER_CONFIG: temp('berth-mkill-docker-'),
      DOCKER_HOST: '', DOCKER_TLS_VERIFY: '', DOCKER_CERT_PATH: '', DOCKER_MACHINE_NAME: '',
    },
    stop() {
      f.cleanup();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

export const ok = (r: { code: number; stderr: string } | undefined) => expect(r && { code: r.code, stderr: r.stderr }).toEqual(r && { code: 0, stderr: '' });

/** The precondition of a verb: create needs the machine gone, the others need it there. */
export function prepare(rig: MachineRig, verb: Verb): void {
  if (verb === 'create' && listed(rig, NAME)) ok(berth(args(rig, 'rm', NAME), rig.env));
  if (verb !== 'create' && !listed(rig, NAME)) ok(berth(args(rig, 'create', NAME), rig.env));
}

/** Kill, repair (with `repairWith`, the same verb by default), check; returns what the kill hit, for the log. */
export async function killAndConverge(rig: MachineRig, verb: Verb, at: { step?: string; afterMs?: number; inStep?: string }, repairWith: Verb = verb): Promise<string> {
  prepare(rig, verb);
  const r = await runKilled(rig, args(rig, verb, NAME), at);
  ok(repair(rig, repairWith, NAME));
  expect({ verb, at, bad: checkConverged(rig, NAME, verb !== 'rm') }).toEqual({ verb, at, bad: [] });
  const where = at.step ?? (at.inStep ? `${at.afterMs} ms into "${at.inStep}"` : `after ${at.afterMs} ms`);
  return `${verb} ${where}: ${r.killed ? 'killed' : `finished (${r.code})`}`;
}

export const CREATE_STEPS = ['Reserving the name and keys', 'Creating the host', 'Waiting for the host', 'Detecting the OS', 'Installing the engine bundle',
  'Configuring TLS and starting the engine', 'Waiting for the engine', 'Saving'];

export type Verb = 'create' | 'rm' | 'regenerate-certs' | 'regenerate-certs --client-certs';

export const args = (rig: MachineRig, verb: Verb, name: string): string[] => {
  switch (verb) {
    case 'create': return ['machine', 'create', '-d', 'generic', '--generic-ip-address', rig.host.ip, '--generic-ssh-key', rig.f.keyPath, name];
    case 'rm': return ['machine', 'rm', '-y', name];
    case 'regenerate-certs': return ['machine', 'regenerate-certs', '-f', name];
    case 'regenerate-certs --client-certs': return ['machine', 'regenerate-certs', '-f', '--client-certs', name];
  }
};

/**
 * Runs the command and kills it with SIGKILL at `step` (armed), or `afterMs` after it
 * started (or after the listr2 step titled `inStep` started: plain progress prints it);
 * `killed` says whether it died so.
 */
export function runKilled(rig: MachineRig, argv: string[], at: { step?: string; afterMs?: number; inStep?: string }): Promise<Run & { killed: boolean }> {
  const armFile = at.step ? join(rig.arms, at.step.replace(/\//g, '_')) : undefined;
  if (armFile) writeFileSync(armFile, '');
  return new Promise((resolve) => {
    const child = spawn(berthBin(), argv, { env: { ...process.env, ...rig.env } });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const killLater = () => { timer = setTimeout(() => child.kill('SIGKILL'), at.afterMs); };
    child.stdout.on('data', (c) => {
      stdout += c;
      if (at.inStep && !timer && stdout.includes(at.inStep)) killLater();
    });
    child.stderr.on('data', (c) => { stderr += c; });
    if (at.afterMs !== undefined && !at.inStep) killLater();
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      // Never reached (the command took another path): disarm, so no later command dies there.
      if (armFile && existsSync(armFile)) rmSync(armFile);
      resolve({ code: code ?? 128 + 9, stdout, stderr, killed: sig === 'SIGKILL' });
    });
  });
}

/** What `machine ls` says of the machine: absent, or its state and error. */
export function listed(rig: MachineRig, name: string): { state: string; error: string } | undefined {
  const ls = berth(['machine', 'ls', '--format', '{{.Name}}\t{{.State}}\t{{.Error}}'], rig.env);
  for (const line of ls.stdout.split('\n')) {
    const [n, state, error] = line.split('\t');
    if (n === name) return { state, error: error ?? '' };
  }
  return undefined;
}

/**
 * The documented repair after a killed command, driven by what `machine ls` shows:
 * create: absent or "not fully created" -> run the same create again;
 * rm: still listed -> rm again; regenerate-certs: run it again.
 */
export function repair(rig: MachineRig, verb: Verb, name: string): Run | undefined {
  const seen = listed(rig, name);
  if (verb === 'create') {
    if (seen && !seen.error) return undefined;
    return berth(args(rig, 'create', name), rig.env);
  }
  if (verb === 'rm') return seen ? berth(args(rig, 'rm', name), rig.env) : undefined;
  return berth(args(rig, verb, name), rig.env);
}

function walk(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/** Engine-side processes in the host's network namespace: berthd and its supervisor. */
export function engineProcesses(host: SshHost): { berthd: number[]; supervisors: number[] } {
  const out = { berthd: [] as number[], supervisors: [] as number[] };
  const r = spawnSync('ip', ['netns', 'pids', host.ns], { encoding: 'utf8' });
  for (const pid of r.stdout.split('\n').filter(Boolean).map(Number)) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z')) continue;
    } catch {
      continue;
    }
    if (argv[0] === '/opt/berth/bin/berthd') out.berthd.push(pid);
    else if (argv.some((a) => a.endsWith('/libexec/berthd-supervise'))) out.supervisors.push(pid);
  }
  return out;
}

/**
 * What must hold once the repair ran: every JSON in the store parses, no temp file,
 * no lock, no unfinished-create marker, no machine directory without config.json;
 * the machine absent (`present` false) or running with one engine and one supervisor
 * on the host, reachable by the docker CLI through `machine env`.
 */
export function checkConverged(rig: MachineRig, name: string, present: boolean): string[] {
  const bad: string[] = [];
  for (const f of walk(rig.store)) {
    const rel = f.slice(rig.store.length + 1);
    if (f.endsWith('.json')) {
      try { JSON.parse(readFileSync(f, 'utf8')); } catch (err) { bad.push(`${rel} does not parse: ${(err as Error).message}`); }
    }
    if (/\.tmp$/.test(f)) bad.push(`temp file ${rel} is left`);
    if (rel.startsWith('locks/')) bad.push(`lock ${rel} is left`);
    if (rel.endsWith('/creating.json')) bad.push(`unfinished-create marker ${rel} is left`);
  }
  // On the host: no half-unpacked bundle or half-written file of an install cut short.
  for (const f of walk(join(rig.host.dir, 'opt-upper')).concat(walk(join(rig.host.dir, 'etc-upper', 'berth')))) {
    if (/\/\.new\.|\.tmp$|\/bin\.old\//.test(f)) bad.push(`host file ${f.slice(rig.host.dir.length + 1)} is left`);
  }
  const machines = join(rig.store, 'machines');
  for (const m of existsSync(machines) ? readdirSync(machines) : []) {
    if (statSync(join(machines, m)).isDirectory() && !existsSync(join(machines, m, 'config.json'))) bad.push(`machines/${m} is left without config.json`);
  }
  const seen = listed(rig, name);
  if (!present) {
    if (seen) bad.push(`"${name}" is still listed (${seen.state} ${seen.error})`);
    return bad;
  }
  if (!seen || seen.state !== 'Running' || seen.error) bad.push(`"${name}" is ${seen ? `${seen.state} ${seen.error}` : 'not listed'}, not Running`);
  const procs = engineProcesses(rig.host);
  if (procs.berthd.length !== 1 || procs.supervisors.length !== 1) {
    bad.push(`the host runs ${procs.berthd.length} berthd (${procs.berthd.join(' ')}) and ${procs.supervisors.length} supervisors (${procs.supervisors.join(' ')}), not one each`);
  }
  const r = spawnSync('/bin/sh', ['-c', `eval "$("$BERTH" machine env ${name})" && docker version --format '{{.Server.Version}}'`],
    { encoding: 'utf8', env: { ...process.env, ...rig.env, BERTH: berthBin() }, timeout: 60_000 });
  if (r.status !== 0 || !r.stdout.trim()) bad.push(`docker version through \`machine env ${name}\` failed (${r.status}): ${r.stderr.trim()}`);
  return bad;
}
