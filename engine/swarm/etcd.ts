/**
 * Runs and supervises this manager's etcd member (Debian's etcd-server): client and
 * peer URLs on the advertise address, mTLS on both with the swarm's certificates.
 * A member that exits is restarted after a second. A member left running by a
 * berthd that was killed is adopted (by its pid file) rather than started twice.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../fsutil.js';
import { log } from '../log.js';
import { UnavailableError } from '../errors.js';

export const ETCD_BIN = process.env.BERTH_ETCD ?? '/usr/bin/etcd';

export interface MemberConfig {
  name: string;
  dataDir: string;
  /** Where etcd.pid and etcd.log go. */
  runDir: string;
  clientUrl: string;
  peerUrl: string;
  /** name=peerUrl,... for a member's first start. */
  initialCluster: string;
  initialClusterState: 'new' | 'existing';
  clusterToken: string;
  caFile: string;
  certFile: string;
  keyFile: string;
}

export function etcdUrls(addr: string, controlPort: number): { clientUrl: string; peerUrl: string } {
  const host = addr.includes(':') ? `[${addr}]` : addr;
  return { clientUrl: `https://${host}:${controlPort + 2}`, peerUrl: `https://${host}:${controlPort + 3}` };
}

export class EtcdMember {
  private child?: ChildProcess;
  private adoptedPid?: number;
  private stopping = false;
  private restartTimer?: NodeJS.Timeout;
  private watchTimer?: NodeJS.Timeout;

  constructor(readonly cfg: MemberConfig) {}

  private get pidFile(): string { return join(this.cfg.runDir, 'etcd.pid'); }

  start(): void {
    if (!existsSync(ETCD_BIN)) throw new UnavailableError(`swarm managers need etcd (${ETCD_BIN}): apt-get install etcd-server`);
    mkdirSync(this.cfg.runDir, { recursive: true, mode: 0o700 });
    const old = this.runningPid();
    if (old) {
      log.info(`swarm: adopting etcd member already running as pid ${old}`);
      this.adoptedPid = old;
      this.watchTimer = setInterval(() => {
        if (this.adoptedPid && !alive(this.adoptedPid)) {
          this.adoptedPid = undefined;
          clearInterval(this.watchTimer);
          if (!this.stopping) this.spawnMember();
        }
      }, 1000);
      this.watchTimer.unref();
      return;
    }
    this.spawnMember();
  }

  private runningPid(): number | undefined {
    try {
      const pid = Number(readFileSync(this.pidFile, 'utf8').trim());
      if (!pid || !alive(pid)) return undefined;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return cmd.includes(this.cfg.dataDir) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  private spawnMember(): void {
    const c = this.cfg;
    mkdirSync(c.dataDir, { recursive: true, mode: 0o700 });
    const args = [
      '--name', c.name, '--data-dir', c.dataDir,
      '--listen-client-urls', c.clientUrl, '--advertise-client-urls', c.clientUrl,
      '--listen-peer-urls', c.peerUrl, '--initial-advertise-peer-urls', c.peerUrl,
      '--initial-cluster', c.initialCluster, '--initial-cluster-state', c.initialClusterState,
      '--initial-cluster-token', c.clusterToken,
      '--client-cert-auth', '--trusted-ca-file', c.caFile, '--cert-file', c.certFile, '--key-file', c.keyFile,
      '--peer-client-cert-auth', '--peer-trusted-ca-file', c.caFile, '--peer-cert-file', c.certFile, '--peer-key-file', c.keyFile,
      '--heartbeat-interval', '200', '--election-timeout', '2000',
      '--auto-compaction-mode', 'revision', '--auto-compaction-retention', '10000',
      '--logger', 'zap', '--log-outputs', 'stderr',
    ];
    const out = openSync(join(c.runDir, 'etcd.log'), 'a');
    const child = spawn(ETCD_BIN, args, { stdio: ['ignore', out, out] });
    closeSync(out);
    this.child = child;
    writeFileAtomic(this.pidFile, `${child.pid}\n`);
    child.once('exit', (code, signal) => {
      this.child = undefined;
      if (this.stopping) return;
      log.warn(`swarm: etcd member exited (${signal ?? code}); restarting in 1 s (log: ${join(c.runDir, 'etcd.log')})`);
      this.restartTimer = setTimeout(() => this.spawnMember(), 1000);
      this.restartTimer.unref();
    });
  }

  /** Stops the member (SIGTERM, then SIGKILL after 5 s). */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    clearInterval(this.watchTimer);
    const pid = this.child?.pid ?? this.adoptedPid;
    if (!pid) return;
    try { process.kill(pid, 'SIGTERM'); } catch { return; }
    const deadline = Date.now() + 5000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (alive(pid)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // a zombie child of ours still answers kill(0)
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
  } catch {
    return false;
  }
}
