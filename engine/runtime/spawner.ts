/**
 * Runs short commands (the OCI runtime, ip, nft) and the engine's mounts through one
 * long-lived helper, `berth-runtime helper` (native/cli/helper.c), instead of forking
 * berthd for each: node's spawn forks the whole engine and blocks its event loop for
 * milliseconds per call, which dominates a burst of starts. The helper starts commands
 * with posix_spawn, so calls still run in parallel, and does mounts, unmounts and
 * network namespaces itself, without a process.
 *
 * Protocol: one JSON request a line on the helper's stdin, "ID STATUS" a line on its
 * stdout when done (helper.c lists the ops). Command output goes to files under `dir`
 * (or /dev/null); built-in ops write their error to the "err" file. Commands get no
 * other descriptor: containers created through it hold none of ours.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Socket } from 'node:net';

export interface SpawnResult { code: number; stdout: string; stderr: string }

type Request = { op: 'exec'; argv: string[]; in?: string }
  | { op: 'runtime'; argv: string[] }
  | { op: 'mount'; type: string; source: string; target: string; data: string; bind?: boolean; ro?: boolean }
  | { op: 'umount'; target: string }
  | { op: 'netns' | 'netns-rm' | 'rm'; path: string };

export class Spawner {
  private child: ChildProcess | undefined;
  private pending = new Map<number, (code: number) => void>();
  private seq = 0;

  constructor(private readonly binary: string, private readonly dir: string) {}

  /** The helper is this runtime binary: its commands can run as forks of the helper (`runtime`). */
  isRuntime(binary: string): boolean {
    return binary === this.binary;
  }

  private helper(): ChildProcess {
    if (this.child && this.child.exitCode === null && !this.child.killed) return this.child;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const child = spawn(this.binary, ['helper'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const [id, code] = line.split(' ').map(Number);
      const done = this.pending.get(id);
      this.pending.delete(id);
      done?.(code);
    });
    child.on('exit', () => {
      if (this.child === child) this.child = undefined;
      for (const done of this.pending.values()) done(-1);
      this.pending.clear();
    });
    child.on('error', () => undefined); // surfaces as 'exit' (-1 for what was pending)
    child.stdin!.on('error', () => undefined);
    // The helper must not keep berthd alive at shutdown; it exits at EOF on its stdin.
    child.unref();
    (child.stdin as unknown as Socket).unref?.();
    (child.stdout as unknown as Socket).unref?.();
    this.child = child;
    return child;
  }

  /** While a call is pending the helper keeps the event loop alive; idle, it doesn't. */
  private hold(child: ChildProcess, on: boolean): void {
    const out = child.stdout as unknown as Socket;
    if (on) { child.ref(); out.ref?.(); } else { child.unref(); out.unref?.(); }
  }

  private async call(req: Request, capture: { stdout?: boolean; stderr?: boolean }): Promise<SpawnResult> {
    const id = ++this.seq;
    const out = capture.stdout ? join(this.dir, `${id}.out`) : '/dev/null';
    const err = capture.stderr ? join(this.dir, `${id}.err`) : '/dev/null';
    const child = this.helper();
    const code = await new Promise<number>((resolve) => {
      this.pending.set(id, resolve);
      this.hold(child, true);
      child.stdin!.write(`${JSON.stringify({ id, ...req, out, err })}\n`);
    });
    if (!this.pending.size) this.hold(child, false);
    if (code < 0) throw new Error(`spawner: the helper ${this.binary} died running ${req.op === 'exec' ? req.argv[0] : req.op === 'runtime' ? `${this.binary} ${req.argv.join(' ')}` : req.op}`);
    const read = async (p: string) => {
      if (p === '/dev/null') return '';
      const text = await readFile(p, 'utf8').catch(() => '');
      await rm(p, { force: true });
      return text;
    };
    // A command's stderr only tells how it failed: after a 0 exit there is none to read.
    const [stdout, stderr] = await Promise.all([read(out), code === 0 ? '' : read(err)]);
    return { code, stdout, stderr };
  }

  /**
   * Runs argv (127: it could not be started); `capture` says which outputs to keep
   * (the others go to /dev/null; stderr is kept only when the exit status isn't 0);
   * `input` is its stdin.
   */
  run(argv: string[], capture: { stdout?: boolean; stderr?: boolean } = { stdout: true, stderr: true }, input?: string): Promise<SpawnResult> {
    return this.call({ op: 'exec', argv, ...(input ? { in: input } : {}) }, capture);
  }

  /**
   * The runtime's own command line (`args` without the program) in a fork of the helper:
   * the same as run([binary, ...args]) without two execs (the binary, then its re-exec
   * into the sealed view that create, run and exec need; the helper runs from it).
   */
  runtime(args: string[], capture: { stdout?: boolean; stderr?: boolean } = { stdout: true, stderr: true }): Promise<SpawnResult> {
    return this.call({ op: 'runtime', argv: args }, capture);
  }

  /** A mount(2) at `target` unless something is mounted there already. */
  async mount(m: { type: string; source: string; target: string; data?: string; bind?: boolean; ro?: boolean }): Promise<void> {
    await this.check(this.call({ op: 'mount', data: '', ...m }, { stderr: true }));
  }

  /** Lazy unmount; nothing mounted there is no error. */
  async umount(target: string): Promise<void> {
    await this.check(this.call({ op: 'umount', target }, { stderr: true }));
  }

  /** A new network namespace with lo up, bound at `path`. */
  async netns(path: string): Promise<void> {
    await this.check(this.call({ op: 'netns', path }, { stderr: true }));
  }

  /** Unbinds and removes a namespace file (absent is no error). */
  async netnsRemove(path: string): Promise<void> {
    await this.check(this.call({ op: 'netns-rm', path }, { stderr: true }));
  }

  /** rm -rf of an absolute path in one request; a mount point inside is an error. */
  async rm(path: string): Promise<void> {
    await this.check(this.call({ op: 'rm', path }, { stderr: true }));
  }

  private async check(result: Promise<SpawnResult>): Promise<void> {
    const r = await result;
    if (r.code !== 0) throw new Error(r.stderr.trim() || `the helper answered ${r.code}`);
  }
}

let shared: Spawner | undefined;

/** Called once by the containers service: one helper per berthd, its files under `dir`. */
export function configureSpawner(runtimeBinary: string, dir: string): void {
  if (existsSync(runtimeBinary)) shared = new Spawner(runtimeBinary, dir);
}

/** The helper, or undefined (no berth-runtime, or not configured): callers fall back to execFile. */
export function spawner(): Spawner | undefined {
  return shared;
}

/**
 * Removes a tree (rm -rf): one request to the helper instead of an fs call per entry
 * on node's thread pool; without the helper, fs.rm.
 */
export async function removeTree(path: string): Promise<void> {
  if (shared) return shared.rm(path);
  await rm(path, { recursive: true, force: true });
}
