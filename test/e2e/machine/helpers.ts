/** Helpers of the machine e2e tests: run the real CLI, a throwaway registry, temp dirs. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../../src/common/paths.js';
import { waitPort } from '../../fixtures/sshhosts.js';
import { writeBusyboxArchive } from './busybox-archive.js';

export interface Run { code: number; stdout: string; stderr: string }

export const berthBin = () => join(projectRoot(), 'bin', 'berth');

export function berth(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const res = spawnSync(berthBin(), args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

/** The same, without blocking the event loop (for concurrent creates). */
export function berthAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(berthBin(), args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export function sh(script: string, env: NodeJS.ProcessEnv = {}): Run {
  const res = spawnSync('/bin/bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

const made: string[] = [];

/** A temp dir that removeTempDirs() deletes (call it in afterAll). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

export { requireDockerCli } from '../../fixtures/docker-cli.js';

/** Debian's docker-registry on addr:random port with a busybox image pushed by skopeo. */
export async function startRegistry(addr: string): Promise<{ host: string; image: string; proc: ChildProcess; stop(): void }> {
  for (const [tool, pkg] of [['/usr/bin/docker-registry', 'docker-registry'], ['/usr/bin/skopeo', 'skopeo']]) {
    if (!existsSync(tool)) throw new Error(`machine e2e tests need ${tool}: apt-get install ${pkg}`);
  }
  const dir = tempDir('berth-machine-reg-');
  const port = 20000 + Math.floor(Math.random() * 20000);
  writeFileSync(join(dir, 'config.yml'), `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: ${addr}:${port}\nlog:\n  level: error\n`);
  const proc = spawn('/usr/bin/docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  await waitPort(addr, port, 10_000);
  const archive = join(dir, 'busybox.tar');
  await writeBusyboxArchive(archive);
  const host = `${addr}:${port}`;
  const push = spawnSync('skopeo', ['copy', '-q', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${host}/busybox:latest`], { encoding: 'utf8' });
  if (push.status !== 0) throw new Error(`skopeo push failed: ${push.stderr}`);
  return { host, image: `${host}/busybox:latest`, proc, stop: () => { try { process.kill(proc.pid!, 'SIGKILL'); } catch { /* exited */ } rmSync(dir, { recursive: true, force: true }); } };
}
