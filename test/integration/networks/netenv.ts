/** Helpers for network tests: commands, namespaces the test owns, unique names and subnets. */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, networkInterfaces } from 'node:os';
import { join } from 'node:path';

/**
 * Runs a shell command without blocking the event loop: the engine's resolver and
 * port proxies live in the test's own process and must keep answering meanwhile.
 */
export function sh(cmd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('sh', ['-c', cmd], { encoding: 'utf8', timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd}: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

export async function shOk(cmd: string): Promise<boolean> {
  return sh(cmd).then(() => true, () => false);
}

/** Synchronous, for setup and teardown that talks to nothing in this process. */
export function shSync(cmd: string): string {
  return execFileSync('sh', ['-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function shSyncOk(cmd: string): boolean {
  try {
    shSync(cmd);
    return true;
  } catch {
    return false;
  }
}

export function requireTools(...tools: string[]): void {
  for (const t of tools) {
    if (!shSyncOk(`command -v ${t}`)) throw new Error(`${t} is missing: apt-get install ${t === 'busybox' ? 'busybox-static' : t === 'nft' ? 'nftables' : 'iproute2'}`);
  }
}

/** A random tag for interface names (short: IFNAMSIZ is 15). */
export function tag(): string {
  return Math.random().toString(36).slice(2, 7);
}

/**
 * A random octet for private test subnets 10.<base>.<octet>.0/24, one that no interface
 * of this host has yet under any of `bases` (a bridge left on the same /24 misroutes).
 */
export function octet(...bases: number[]): number {
  const taken = new Set<number>();
  for (const m of shSync('ip -4 -o addr show').matchAll(/inet 10\.(\d+)\.(\d+)\./g)) {
    if (bases.includes(Number(m[1]))) taken.add(Number(m[2]));
  }
  let o = 1 + Math.floor(Math.random() * 250);
  for (let i = 0; i < 250 && taken.has(o); i++) o = 1 + (o % 250);
  return o;
}

/** The address of the host's default-route interface ("the host's other address"). */
export function hostAddress(): string {
  const routes = JSON.parse(shSync('ip -j -4 route show default')) as Array<{ dev?: string }>;
  const dev = routes.find((r) => r.dev)?.dev;
  const list = (dev && networkInterfaces()[dev]) || Object.values(networkInterfaces()).flat();
  const found = list?.find((a) => a && a.family === 'IPv4' && !a.internal);
  if (!found) throw new Error('the host has no non-loopback IPv4 address (tests need one on the default route)');
  return found.address;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A busybox httpd serving `body` at /index.html, inside the network namespace at `netns`. */
export function httpdIn(netns: string, port: number, body: string, parent: string): ChildProcess {
  const dir = mkdtempSync(join(parent, 'httpd-'));
  writeFileSync(join(dir, 'index.html'), body);
  return spawn('nsenter', [`--net=${netns}`, 'busybox', 'httpd', '-f', '-p', String(port), '-h', dir], { stdio: 'ignore' });
}

/** A namespace outside any engine, linked to the host by a veth: the "outside world". */
export class OutsideHost {
  readonly netns: string;
  readonly hostVeth: string;
  constructor(readonly dir: string, readonly subnet: string /* e.g. 10.215.7 */) {
    this.netns = join(dir, 'outside');
    this.hostVeth = `vo${tag()}`;
    writeFileSync(this.netns, '');
    shSync(`unshare --net=${this.netns} sh -c 'ip link set lo up && ip link add eth0 type veth peer name ${this.hostVeth} netns ${process.pid} && ip addr add ${subnet}.2/24 dev eth0 && ip link set eth0 up'`);
    shSync(`ip addr add ${subnet}.1/24 dev ${this.hostVeth} && ip link set ${this.hostVeth} up`);
  }
  get address(): string {
    return `${this.subnet}.2`;
  }
  destroy(): void {
    shSyncOk(`ip link del ${this.hostVeth}`);
    shSyncOk(`umount ${this.netns}`);
    shSyncOk(`rm -f ${this.netns}`);
  }
}

export async function waitFor(check: () => Promise<boolean>, what: string, tries = 50): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}
