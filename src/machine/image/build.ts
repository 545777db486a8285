import { execFile, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { ListrTask, ListrTaskWrapper } from 'listr2';
import { writeFileAtomic } from '../atomic.js';
import { InvalidArgumentError, ProvisionError, reason } from '../errors.js';
import { withLock } from '../lock.js';
import { runTasks, type Progress } from '../tasks.js';
import { createHash } from 'node:crypto';
import { ENABLED_UNITS, IMAGE_PACKAGES, MASKED_UNITS, imageFiles, imageRecipe } from './firstboot.js';
import { aptMirror } from './mirror.js';
import { imagePaths, type ImageManifest, type ImagePaths } from './paths.js';

const exec = promisify(execFile);

/**
 * `machine image build`: debootstrap minbase + a kernel, systemd, sshd and the
 * first-boot unit, as an unpartitioned ext4 raw disk (root=/dev/vda, so growing it is
 * one resize2fs) and a qcow2 of it, with the kernel and initrd beside them for
 * direct boot. Built in a work directory of the cache and moved in whole; the
 * manifest is written last, so an interrupted build is never mistaken for an image.
 */
export interface BuildOptions {
  release: string;
  /** The cache directory (<store>/cache/images, or --output). */
  dir: string;
  mirror?: string;
  /** Size of the raw disk's filesystem; machines grow it with their overlay. */
  diskMiB?: number;
  force?: boolean;
  progress: Progress;
}

export interface BuildResult { paths: ImagePaths; manifest: ImageManifest; cached: boolean }

const TOOLS: [string, string][] = [['debootstrap', 'debootstrap'], ['mkfs.ext4', 'e2fsprogs'], ['qemu-img', 'qemu-utils'], ['chroot', 'coreutils']];

function recipeId(): string {
  return createHash('sha256').update(imageRecipe()).digest('hex').slice(0, 16);
}

export async function readManifest(paths: ImagePaths): Promise<ImageManifest | null> {
  try {
    const m = JSON.parse(await readFile(paths.manifest, 'utf8')) as ImageManifest;
    if (m.recipe !== recipeId()) return null;
    for (const f of [paths.raw, paths.qcow2, paths.kernel, paths.initrd]) await stat(f);
    return m;
  } catch {
    return null;
  }
}

export async function checkBuildTools(): Promise<void> {
  if (process.getuid?.() !== 0) throw new InvalidArgumentError('building a VM image needs root (debootstrap, chroot)', { hint: 'run `sudo berth machine image build`' });
  for (const [tool, pkg] of TOOLS) {
    if (!(await onPath(tool))) throw new InvalidArgumentError(`building a VM image needs ${tool}, which is not installed`, { hint: `apt-get install ${pkg}` });
  }
}

async function onPath(tool: string): Promise<boolean> {
  for (const d of (process.env.PATH || '/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
    if (await stat(join(d, tool)).then((s) => s.isFile(), () => false)) return true;
  }
  return false;
}

export function validateRelease(release: string): void {
  if (!/^[a-z][a-z0-9-]*$/.test(release)) throw new InvalidArgumentError(`--release "${release}" is not a Debian release name`, { hint: 'e.g. --release bookworm' });
}

export async function buildImage(opts: BuildOptions): Promise<BuildResult> {
  validateRelease(opts.release);
  const paths = imagePaths(opts.dir, opts.release);
  if (!opts.force) {
    const m = await readManifest(paths);
    if (m) return { paths, manifest: m, cached: true };
  }
  await checkBuildTools();
  await mkdir(opts.dir, { recursive: true });
  return withLock(join(opts.dir, `.${paths.name}.lock`), `the ${paths.name} image build`, async () => {
    // Another build may have finished while this one waited for the lock.
    const done = opts.force ? null : await readManifest(paths);
    if (done) return { paths, manifest: done, cached: true };
    await removeStaleWork(opts.dir);
    const work = await mkdtemp(join(opts.dir, '.build-'));
    try {
      const manifest = await runBuild(opts, paths, work);
      return { paths, manifest, cached: false };
    } finally {
      await removeWork(work);
    }
  }, 30 * 60_000);
}

interface Ctx { mirror: string; root: string; kernelVersion: string; rawBytes: number; qcow2Bytes: number }

async function runBuild(opts: BuildOptions, paths: ImagePaths, work: string): Promise<ImageManifest> {
  const ctx: Ctx = { mirror: opts.mirror ?? (await aptMirror()), root: join(work, 'root'), kernelVersion: '', rawBytes: 0, qcow2Bytes: 0 };
  const out = (name: string) => join(work, name);
  const tasks: ListrTask<Ctx>[] = [
    {
      title: `Installing Debian ${opts.release} (debootstrap minbase from ${ctx.mirror})`,
      task: async (c, task) => {
        // Downloaded packages stay in the cache directory: a rebuild fetches only what changed.
        const debs = join(opts.dir, `.debs-${opts.release}`);
        await mkdir(debs, { recursive: true });
        await streamed(task, 'debootstrap', ['--variant=minbase', `--cache-dir=${debs}`, `--include=${IMAGE_PACKAGES.join(',')}`, opts.release, c.root, c.mirror]);
      },
    },
    { title: 'Adding the first-boot unit, network and SSH configuration', task: async (c) => { await configureRoot(c.root); } },
    {
      title: 'Building the initrd',
      task: async (c) => {
        c.kernelVersion = await kernelVersion(c.root);
        await run('chroot', [c.root, 'update-initramfs', '-u', '-k', c.kernelVersion]);
        await exec('cp', [join(c.root, 'boot', `vmlinuz-${c.kernelVersion}`), out('vmlinuz')]);
        await exec('cp', [join(c.root, 'boot', `initrd.img-${c.kernelVersion}`), out('initrd')]);
        await trimRoot(c.root);
      },
    },
    {
      title: 'Writing the raw disk (mkfs.ext4 -d)',
      task: async (c) => {
        await run('mkfs.ext4', ['-q', '-F', '-L', 'berth-root', '-E', 'root_owner=0:0', '-d', c.root, out('raw'), `${opts.diskMiB ?? 2048}M`]);
        c.rawBytes = (await stat(out('raw'))).size;
      },
    },
    {
      title: 'Converting to qcow2',
      task: async (c) => {
        await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', out('raw'), out('qcow2')]);
        c.qcow2Bytes = (await stat(out('qcow2'))).size;
      },
    },
    {
      title: `Saving to ${opts.dir}`,
      task: async (c) => {
        await rename(out('raw'), paths.raw);
        await rename(out('qcow2'), paths.qcow2);
        await rename(out('vmlinuz'), paths.kernel);
        await rename(out('initrd'), paths.initrd);
        const manifest: ImageManifest = {
          name: paths.name, release: opts.release, mirror: c.mirror, builtAt: new Date().toISOString(), kernelVersion: c.kernelVersion,
          cmdline: 'root=/dev/vda rw', recipe: recipeId(), rawBytes: c.rawBytes, qcow2Bytes: c.qcow2Bytes,
        };
        await writeFileAtomic(paths.manifest, JSON.stringify(manifest, null, 2) + '\n', 0o644);
      },
    },
  ];
  const errors = await runTasks(tasks, opts.progress, false, ctx);
  // listr2 runs on after a failure only with exitOnError off; a build stops at the first.
  if (errors.length) throw errors[0];
  const m = await readManifest(paths);
  if (!m) throw new ProvisionError(`the ${paths.name} image build finished without its files in ${opts.dir}`);
  return m;
}

async function configureRoot(root: string): Promise<void> {
  for (const f of imageFiles()) {
    const p = join(root, f.path);
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, f.content);
    await chmod(p, f.mode);
  }
  // Every VM makes its own: host keys on first boot, machine-id at boot.
  for (const f of await readdir(join(root, 'etc', 'ssh'))) if (f.startsWith('ssh_host_')) await rm(join(root, 'etc', 'ssh', f));
  await writeFile(join(root, 'etc', 'machine-id'), '');
  await rm(join(root, 'var', 'lib', 'dbus', 'machine-id'), { force: true });
  await run('systemctl', ['--root', root, 'enable', ...ENABLED_UNITS]);
  // Boot straight to multi-user; a serial getty would only slow the boot down.
  await run('systemctl', ['--root', root, 'set-default', 'multi-user.target']);
  await run('systemctl', ['--root', root, 'mask', ...MASKED_UNITS]);
}

async function kernelVersion(root: string): Promise<string> {
  const v = (await readdir(join(root, 'boot'))).filter((f) => f.startsWith('vmlinuz-')).map((f) => f.slice('vmlinuz-'.length)).sort();
  if (!v.length) throw new ProvisionError(`debootstrap installed no kernel in ${root}/boot`);
  return v[v.length - 1];
}

/** What an image does not need: package caches, docs, the kernel copies already taken out. */
async function trimRoot(root: string): Promise<void> {
  for (const d of ['var/cache/apt/archives', 'var/lib/apt/lists', 'usr/share/doc', 'usr/share/man', 'usr/share/locale', 'tmp']) {
    const p = join(root, d);
    for (const f of await readdir(p).catch(() => [] as string[])) if (f !== 'partial' && f !== 'lock') await rm(join(p, f), { recursive: true, force: true });
  }
}

async function run(cmd: string, args: string[]): Promise<void> {
  try {
    await exec(cmd, args, { maxBuffer: 64 << 20, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' } });
  } catch (err) {
    const e = err as { stderr?: string; code?: string | number };
    const tail = (e.stderr ?? '').trim().split('\n').slice(-5).join('\n');
    throw new ProvisionError(`${cmd} failed: ${tail || reason(err)}`);
  }
}

/** A long command whose last output line is shown as the task's output. */
function streamed(task: ListrTaskWrapper<Ctx, any, any>, cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    const tail: string[] = [];
    const onData = (b: Buffer) => {
      for (const line of b.toString().split('\n').filter(Boolean)) {
        tail.push(line);
        if (tail.length > 8) tail.shift();
        task.output = line;
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => reject(new ProvisionError(`${cmd} could not run: ${reason(err)}`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new ProvisionError(`${cmd} exited with ${code}:\n${tail.join('\n')}`))));
  });
}

/** Mounts debootstrap left under a work tree (it mounts /proc and /sys while it runs). */
async function unmountUnder(dir: string): Promise<void> {
  const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n').map((l) => l.split(' ')[1]?.replace(/\\040/g, ' ')).filter((m): m is string => !!m && m.startsWith(dir + '/'));
  for (const m of mounts.reverse()) await exec('umount', ['-l', m]).catch(() => undefined); // gone already
}

async function removeWork(work: string): Promise<void> {
  await unmountUnder(work);
  await rm(work, { recursive: true, force: true });
}

/** Work directories of a build that was killed (the lock is ours, so none is live). */
async function removeStaleWork(dir: string): Promise<void> {
  for (const f of await readdir(dir)) if (f.startsWith('.build-')) await removeWork(join(dir, f));
}

export interface ImageInfo { name: string; release: string; size: number; builtAt: string; path: string }

export async function listImages(dir: string): Promise<ImageInfo[]> {
  const out: ImageInfo[] = [];
  for (const f of (await readdir(dir).catch(() => [] as string[])).sort()) {
    const m = /^debian-([a-z0-9-]+)\.json$/.exec(f);
    if (!m) continue;
    const p = imagePaths(dir, m[1]);
    const man = JSON.parse(await readFile(p.manifest, 'utf8').catch(() => 'null')) as ImageManifest | null;
    if (!man) continue;
    let size = 0;
    for (const x of [p.raw, p.qcow2, p.kernel, p.initrd]) size += await stat(x).then((s) => s.blocks * 512, () => 0);
    out.push({ name: p.name, release: man.release, size, builtAt: man.builtAt, path: p.qcow2 });
  }
  return out;
}

/** Removes an image's files (manifest first, so a half-removed image is not listed). */
export async function removeImage(dir: string, name: string): Promise<void> {
  const m = /^(?:debian-)?([a-z][a-z0-9-]*)$/.exec(name);
  if (!m) throw new InvalidArgumentError(`"${name}" is not an image name`, { hint: 'see `berth machine image ls`' });
  const p = imagePaths(dir, m[1]);
  if (!(await stat(p.manifest).then(() => true, () => false))) throw new InvalidArgumentError(`no image "${p.name}" in ${dir}`, { hint: 'see `berth machine image ls`' });
  await rm(p.manifest, { force: true });
  for (const f of [p.raw, p.qcow2, p.kernel, p.initrd, join(dir, `${p.name}.vdi`)]) await rm(f, { force: true });
}
