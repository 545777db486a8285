/**
 * Shared set-up for berth-runtime integration tests: a busybox rootfs, a private
 * --root, a private cgroup parent, and a `rt()` that runs the real binary.
 * Everything is removed in cleanup(), containers first (by delete --force).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, rmdirSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { runtimePath, projectRoot } from '../../../src/common/paths.js';
import { makeBundle, makeRootfs, removeTree, type Bundle, type BundleOptions } from '../../fixtures/rootfs.js';

export const RUNTIME = runtimePath();
export const RECVTTY = join(projectRoot(), 'native', 'build', 'recvtty');

export interface RunResult { status: number | null; stdout: string; stderr: string }

export function cgroupV2(): boolean {
  return statfsSync('/sys/fs/cgroup').type === 0x63677270;
}

/** The host directory of a controller's cgroup for a container (v1 or pure v2). */
export function cgroupDir(controller: string, path: string): string {
  return cgroupV2() ? join('/sys/fs/cgroup', path) : join('/sys/fs/cgroup', controller, path);
}

export class Harness {
  readonly tag = `bt-${randomBytes(4).toString('hex')}`;
  readonly root = mkdtempSync(join(tmpdir(), 'berth-rt-root-'));
  readonly work = mkdtempSync(join(tmpdir(), 'berth-rt-work-'));
  readonly rootfs: string;
  private ids = new Set<string>();
  private bundles: string[] = [];
  private n = 0;

  constructor() {
    if (!existsSync(RUNTIME)) throw new Error(`${RUNTIME} is missing: run \`make -C native\` (or npm run build)`);
    this.rootfs = makeRootfs();
  }

  /** A fresh container ID, remembered for cleanup. */
  id(): string {
    const id = `${this.tag}-${++this.n}`;
    this.ids.add(id);
    return id;
  }

  /** The cgroupsPath used for id: under this harness's own parent. */
  cgroupsPath(id: string): string {
    return `/${this.tag}/${id}`;
  }

  bundle(opts: Partial<BundleOptions> & { id?: string } = {}): Bundle {
    const b = makeBundle({ rootfs: this.rootfs, ...opts, cgroupsPath: opts.cgroupsPath ?? (opts.id ? this.cgroupsPath(opts.id) : undefined) });
    this.bundles.push(b.dir);
    return b;
  }

  /**
   * berth-runtime --root <ours> ARGS…, synchronously. Output goes through files, not
   * pipes: a detached container keeps the caller's stdio (as with runc), and waiting
   * for pipes to close would wait for the container.
   */
  rt(args: string[], opts: { timeout?: number; globals?: string[]; wrap?: string[]; runtime?: string } = {}): RunResult {
    const out = join(this.work, `out-${++this.n}`), err = `${out}.err`;
    const fo = openSync(out, 'w'), fe = openSync(err, 'w');
    let r: SpawnSyncReturns<Buffer>;
    try {
      const argv = [opts.runtime ?? RUNTIME, '--root', this.root, ...(opts.globals ?? []), ...args];
      if (opts.wrap) argv.unshift(...opts.wrap);
      r = spawnSync(argv[0], argv.slice(1), {
        stdio: ['ignore', fo, fe], timeout: opts.timeout ?? 30000,
      });
    } finally {
      closeSync(fo);
      closeSync(fe);
    }
    if (r.error) throw r.error;
    const res = { status: r.status, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
    rmSync(out);
    rmSync(err);
    return res;
  }

  /** run --bundle B ID in the foreground; returns the container's status and output. */
  run(opts: Partial<BundleOptions> = {}): RunResult & { id: string } {
    const id = this.id();
    const b = this.bundle({ ...opts, id });
    return { id, ...this.rt(['run', '--bundle', b.dir, id]) };
  }

  state(id: string): Record<string, unknown> {
    const r = this.rt(['state', id]);
    if (r.status !== 0) throw new Error(`state ${id}: ${r.stderr}`);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  }

  /** Polls state until the status is `status` (the process ends on its own). */
  async waitStatus(id: string, status: string, timeoutMs = 20000): Promise<Record<string, unknown>> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const st = this.state(id);
      if (st.status === status) return st;
      if (Date.now() > end) throw new Error(`container ${id} stayed ${String(st.status)}, never ${status}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  cleanup(): void {
    for (const id of this.ids) this.rt(['delete', '--force', id]);
    for (const dir of this.bundles) removeTree(dir);
    removeTree(this.rootfs);
    removeTree(this.root);
    removeTree(this.work);
    for (const base of cgroupV2() ? ['/sys/fs/cgroup'] : readdirSync('/sys/fs/cgroup').map((c) => join('/sys/fs/cgroup', c))) {
      const dir = join(base, this.tag);
      if (!existsSync(dir)) continue;
      for (const sub of readdirSync(dir, { withFileTypes: true })) if (sub.isDirectory()) try { rmdirSync(join(dir, sub.name)); } catch { /* busy: reported by the tests */ }
      try { rmdirSync(dir); } catch { /* ignore */ }
    }
  }
}
