/**
 * Debian's dockerd (docker.io, 20.10) as the peer, isolated like berthd in the
 * tests: its own data-root, exec-root, socket and pidfile; no bridge and no
 * iptables changes. It starts its own containerd.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ping } from '../../test/fixtures/daemon.js';

export interface Dockerd {
  socket: string;
  pid: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** `under`: the directory to keep its data-root in (default the temp dir). */
export async function startDockerd(under = tmpdir()): Promise<Dockerd> {
  if (!existsSync('/usr/sbin/dockerd')) throw new Error('dockerd is missing: apt-get install docker.io');
  const base = mkdtempSync(join(under, 'bench-dockerd-'));
  const socket = join(base, 'docker.sock');
  const child = spawn('/usr/sbin/dockerd', [
    '--data-root', join(base, 'data'), '--exec-root', join(base, 'exec'), '--pidfile', join(base, 'docker.pid'),
    '-H', `unix://${socket}`, '--bridge', 'none', '--iptables=false', '--ip6tables=false', '--ip-masq=false', '--ip-forward=false',
    '--storage-driver', 'overlay2',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (c) => (log += c));
  const deadline = Date.now() + 60_000;
  while (!(await ping(socket))) {
    if (child.exitCode !== null) throw new Error(`dockerd exited: ${log.slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`dockerd did not start: ${log.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    socket,
    pid: child.pid!,
    process: child,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      rmSync(base, { recursive: true, force: true });
    },
  };
}

export function rssKb(pid: number): number {
  return statusKb(pid, 'VmRSS');
}

/** A process's own memory: RSS less the pages of files it maps (its binary, shared with every copy). */
export function anonKb(pid: number): number {
  return statusKb(pid, 'RssAnon');
}

function statusKb(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(p));
    } catch {
      // Process ended while listing.
    }
  }
  return out;
}
