/** Mounts a snapshot's Mount[] as a container's rootfs (one mount call) and takes it down. */
import { execFile } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { EngineError } from '../errors.js';
import type { Mount } from '../snapshots/index.js';
import { spawner } from '../runtime/spawner.js';

async function run(cmd: string, args: string[]): Promise<void> {
  const helper = spawner();
  if (helper) {
    const r = await helper.run([cmd, ...args], { stdout: false, stderr: true });
    if (r.code !== 0) throw new EngineError(`${cmd} ${args.join(' ')}: ${r.stderr.trim() || `exited with status ${r.code}`}`);
    return;
  }
  return new Promise((resolve, reject) => {
    execFile(cmd, args, (err, _out, stderr) => (err ? reject(new EngineError(`${cmd} ${args.join(' ')}: ${String(stderr).trim() || err.message}`)) : resolve()));
  });
}

export async function isMounted(target: string): Promise<boolean> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').some((l) => l.split(' ')[4] === target);
}

export async function mountRootfs(mounts: Mount[], target: string): Promise<void> {
  await mkdir(target, { recursive: true });
  if (mounts.length !== 1) throw new EngineError(`rootfs: expected one mount from the snapshotter, got ${mounts.length}`);
  const m = mounts[0];
  const helper = spawner();
  // One page of mount(2) data: a longer lowerdir list goes through mount(8).
  if (helper && (m.type === 'bind' || m.options.join(',').length < 4000)) {
    const bind = m.type === 'bind';
    const ro = m.options.includes('ro');
    await helper.mount({ type: m.type, source: m.source, target, data: bind ? '' : m.options.filter((o) => o !== 'ro' && o !== 'rw').join(','), bind, ro })
      .catch((err: Error) => { throw new EngineError(`rootfs: ${err.message}`); });
    return;
  }
  if (await isMounted(target)) return;
  if (m.type === 'bind') {
    await run('mount', ['--bind', ...(m.options.includes('ro') ? ['-o', 'ro'] : []), m.source, target]);
  } else {
    await run('mount', ['-t', m.type, '-o', m.options.join(','), m.source, target]);
  }
}

/** A bind of `source` at `target` (inside a mounted rootfs; unmountRootfs takes it down with the rootfs). */
export async function bindMount(source: string, target: string, readOnly: boolean): Promise<void> {
  await run('mount', ['--rbind', source, target]);
  if (readOnly) await run('mount', ['-o', 'remount,bind,ro', target]);
}

export async function unmountRootfs(target: string): Promise<void> {
  const helper = spawner();
  if (helper) return helper.umount(target).catch((err: Error) => { throw new EngineError(`rootfs: ${err.message}`); });
  if (!(await isMounted(target))) return;
  await run('umount', ['-l', target]);
}
