/**
 * Runs short commands (the OCI runtime, mount, umount) through one long-lived bash
 * helper instead of forking berthd for each: node's spawn forks the whole engine and
 * blocks its event loop for milliseconds per call, which dominates a burst of starts.
 * The helper backgrounds every command, so calls still run in parallel.
 *
 * Protocol on the helper's stdin, one line per call: ID TAB OUT TAB ERR TAB COMMAND
 * (COMMAND is a bash-quoted argv). It answers "ID STATUS" on its stdout when the
 * command ends; the command's stdout/stderr are in the files OUT/ERR (or /dev/null).
 * Commands get no other descriptor: containers created through it hold none of ours.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Socket } from 'node:net';

export interface SpawnResult { code: number; stdout: string; stderr: string }

const HELPER = `exec 3>&1 1>/dev/null
while IFS=$'\\t' read -r id out err cmd; do
  ( eval "$cmd" >"$out" 2>"$err" </dev/null 3>&-; echo "$id $?" >&3 ) &
done`;

const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

export class Spawner {
  private child: ChildProcess | undefined;
  private pending = new Map<number, (code: number) => void>();
  private seq = 0;

  constructor(private readonly dir: string) {}

  static available(): boolean {
    return existsSync('/bin/bash');
  }

  private helper(): ChildProcess {
    if (this.child && this.child.exitCode === null && !this.child.killed) return this.child;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const child = spawn('/bin/bash', ['-c', HELPER], { stdio: ['pipe', 'pipe', 'ignore'] });
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

  /** Runs argv; `capture` says which outputs to keep (the others go to /dev/null). */
  async run(argv: string[], capture: { stdout?: boolean; stderr?: boolean } = { stdout: true, stderr: true }): Promise<SpawnResult> {
    if (argv.some((a) => /[\n\t\0]/.test(a))) throw new Error(`spawner: argument with a control character: ${JSON.stringify(argv)}`);
    const id = ++this.seq;
    const out = capture.stdout ? join(this.dir, `${id}.out`) : '/dev/null';
    const err = capture.stderr ? join(this.dir, `${id}.err`) : '/dev/null';
    const child = this.helper();
    const code = await new Promise<number>((resolve) => {
      this.pending.set(id, resolve);
      this.hold(child, true);
      child.stdin!.write(`${id}\t${out}\t${err}\t${argv.map(quote).join(' ')}\n`);
    });
    if (!this.pending.size) this.hold(child, false);
    if (code < 0) throw new Error(`spawner: the helper shell died running ${argv[0]}`);
    const read = async (p: string) => {
      if (p === '/dev/null') return '';
      const text = await readFile(p, 'utf8').catch(() => '');
      await rm(p, { force: true });
      return text;
    };
    const [stdout, stderr] = await Promise.all([read(out), read(err)]);
    return { code, stdout, stderr };
  }
}

let shared: Spawner | undefined;

/** Called once by the containers service: one helper per berthd, its files under `dir`. */
export function configureSpawner(dir: string): void {
  if (Spawner.available()) shared = new Spawner(dir);
}

/** The helper, or undefined (no bash, or not configured): callers fall back to execFile. */
export function spawner(): Spawner | undefined {
  return shared;
}
