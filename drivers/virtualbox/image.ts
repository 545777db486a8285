/**
 * The boot media of a VirtualBox machine: an ISO, or a disk VirtualBox opens as is
 * (VDI, VMDK). Raw and qcow2 images (what `berth machine image build` makes) are
 * converted to VDI once with qemu-img into the image cache; a URL is downloaded there
 * first (src/machine/image/download.ts). Files land in the cache under a temporary name and are renamed when whole.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { promisify } from 'node:util';
import { InvalidArgumentError, ProvisionError, reason } from '../../src/machine/errors.js';
import { downloadOnce } from '../../src/machine/image/download.js';
import { DEFAULT_RELEASE, imageCacheDir, imagePaths } from '../../src/machine/image/paths.js';

export interface BootMedia { kind: 'iso' | 'disk'; path: string }

const run = promisify(execFile);

export const DEFAULT_IMAGE = imagePaths('', DEFAULT_RELEASE).name;

const exists = (p: string) => stat(p).then(() => true, () => false);

/** Where the image named by --virtualbox-image (or the default one) is, as something VirtualBox opens. */
export async function resolveImage(spec: string, storePath: string): Promise<BootMedia> {
  const cache = imageCacheDir(storePath);
  if (!spec) {
    const vdi = join(cache, `${DEFAULT_IMAGE}.vdi`);
    if (await exists(vdi)) return { kind: 'disk', path: vdi };
    for (const ext of ['.raw', '.qcow2']) {
      const src = join(cache, `${DEFAULT_IMAGE}${ext}`);
      if (await exists(src)) return { kind: 'disk', path: await convert(src, vdi) };
    }
    throw new InvalidArgumentError(`no VirtualBox boot image: ${join(cache, `${DEFAULT_IMAGE}.raw`)} does not exist`, {
      hint: 'run `berth machine image build`, or pass --virtualbox-image PATH|URL (an ISO, VDI, VMDK, raw or qcow2 image)',
    });
  }
  const path = /^https?:\/\//.test(spec) ? await downloadOnce(spec, join(cache, 'downloads'), '--virtualbox-image') : spec;
  if (!path.startsWith('/')) throw new InvalidArgumentError(`--virtualbox-image "${spec}" must be an absolute path or an http(s) URL`);
  if (!(await exists(path))) throw new InvalidArgumentError(`--virtualbox-image ${path} does not exist`, { hint: 'run `berth machine image build`, or pass the path of an ISO or disk image' });
  const ext = extname(path).toLowerCase();
  if (ext === '.iso') return { kind: 'iso', path };
  if (ext === '.vdi' || ext === '.vmdk') return { kind: 'disk', path };
  const format = await imageFormat(path);
  if (format === 'vdi' || format === 'vmdk') return { kind: 'disk', path };
  // A converted copy per source file and version of it.
  const st = await stat(path);
  const tag = createHash('sha256').update(`${path}\0${st.size}\0${st.mtimeMs}`).digest('hex').slice(0, 12);
  return { kind: 'disk', path: await convert(path, join(cache, `${basename(path, extname(path))}-${tag}.vdi`)) };
}

async function imageFormat(path: string): Promise<string> {
  try {
    const { stdout } = await run('qemu-img', ['info', '--output=json', path]);
    return String((JSON.parse(stdout) as { format?: string }).format ?? '');
  } catch (err) {
    throw new InvalidArgumentError(`--virtualbox-image ${path}: qemu-img cannot read it (${reason(err)})`, { hint: 'pass an ISO, VDI, VMDK, raw or qcow2 image; qemu-img comes with the qemu-utils package' });
  }
}

async function convert(src: string, vdi: string): Promise<string> {
  if (await exists(vdi)) return vdi;
  await mkdir(join(vdi, '..'), { recursive: true });
  const tmp = `${vdi}.${process.pid}.tmp`;
  try {
    await run('qemu-img', ['convert', '-O', 'vdi', src, tmp]);
    await rename(tmp, vdi);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new ProvisionError(`converting ${src} to VDI failed: ${reason(err)}`, { hint: 'qemu-img comes with the qemu-utils package' });
  }
  return vdi;
}
