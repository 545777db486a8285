/**
 * Shared by the containers e2e tests: a berthd of the test's own with a busybox
 * image loaded, and a promise-based runner for the real docker CLI.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startDaemon, type Daemon, type DaemonOptions } from '../../fixtures/daemon.js';
import { busyboxEntries, layerTar } from '../../fixtures/images.js';

import { DOCKER_CLI } from '../../fixtures/docker-cli.js';
export const DOCKER = DOCKER_CLI;

export interface Result { code: number; stdout: string; stderr: string }

export function requireTools(...tools: string[]): void {
  if (!existsSync(DOCKER)) throw new Error(`the docker CLI is needed at ${DOCKER}: install docker-ce-cli`);
  for (const t of tools) {
    const found = (process.env.PATH ?? '').split(':').some((d) => existsSync(join(d, t)));
    if (!found) throw new Error(`${t} is needed for this test: apt-get install ${t}`);
  }
}

/** Runs the docker CLI against `d`; never throws on a non-zero exit. */
export function docker(d: Daemon, args: string[], opts: { input?: string | Buffer; timeoutMs?: number; encoding?: 'buffer' } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(DOCKER, args, { env: { ...process.env, ...d.env }, timeout: opts.timeoutMs ?? 30000, maxBuffer: 64 << 20, encoding: 'latin1' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    else child.stdin!.end();
  });
}

/** docker(...) that must succeed; returns trimmed stdout. */
export async function ok(d: Daemon, args: string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<string> {
  const r = await docker(d, args, opts);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

let busyboxTar: string | undefined;
// Each test file gets its own module instance: its tar goes when the file's tests end.
afterAll(() => {
  if (busyboxTar) rmSync(dirname(busyboxTar), { recursive: true, force: true });
});

/** An uncompressed busybox rootfs tar, built once per test process. */
export async function busyboxRootfsTar(): Promise<string> {
  if (!busyboxTar) {
    const dir = mkdtempSync(join(tmpdir(), 'berth-bb-'));
    busyboxTar = join(dir, 'busybox.tar');
    writeFileSync(busyboxTar, await layerTar(busyboxEntries()));
  }
  return busyboxTar;
}

/** A daemon with `busybox:latest` (CMD sh) imported. */
export async function daemonWithBusybox(opts: DaemonOptions = {}): Promise<Daemon> {
  requireTools();
  const d = await startDaemon(opts);
  try {
    await ok(d, ['import', '--change', 'CMD ["sh"]', await busyboxRootfsTar(), 'busybox:latest']);
  } catch (err) {
    await d.stop();
    throw err;
  }
  return d;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
