import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { InvalidArgumentError } from '../errors.js';

/**
 * The local driver's options: `type`, `device`, `o` as for mount(8). tmpfs
 * (type=tmpfs device=tmpfs o=size=64m) and bind-backed (o=bind device=/path) volumes
 * are mounted on the volume's _data while a container uses the volume.
 */
export function validateDriverOptions(opts: Record<string, string>): void {
  for (const key of Object.keys(opts)) {
    if (!['type', 'device', 'o', 'size', 'copy'].includes(key)) throw new InvalidArgumentError(`invalid option for the local volume driver: "${key}" (use type, device and o)`);
  }
  if (!opts.type && !opts.device && !opts.o) return;
  if (!opts.device) throw new InvalidArgumentError('the local volume driver needs a device option with type/o (e.g. device=tmpfs)');
  if (isBind(opts)) {
    if (!opts.device.startsWith('/') || !existsSync(opts.device) || !statSync(opts.device).isDirectory()) {
      throw new InvalidArgumentError(`bind-backed volume: device ${opts.device} is not an existing directory (give an absolute path)`);
    }
  } else if (!opts.type) {
    throw new InvalidArgumentError('the local volume driver needs a type option with device (e.g. type=tmpfs)');
  }
}

export function needsMount(opts: Record<string, string>): boolean {
  return Boolean(opts.device);
}

function isBind(opts: Record<string, string>): boolean {
  return (opts.o ?? '').split(',').some((o) => o === 'bind' || o === 'rbind');
}

export function isMounted(path: string): boolean {
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === path);
  } catch {
    return false;
  }
}

export function mountVolume(opts: Record<string, string>, target: string): Promise<void> {
  const args = isBind(opts)
    ? ['--bind', ...(opts.o.includes('ro') ? ['-o', 'bind,ro'] : []), opts.device, target]
    : ['-t', opts.type, ...(opts.o ? ['-o', opts.o] : []), opts.device, target];
  return mountCmd('mount', args);
}

export function unmountVolume(target: string): Promise<void> {
  return mountCmd('umount', [target]);
}

function mountCmd(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, (err, _o, stderr) => (err ? reject(new InvalidArgumentError(`${cmd} ${args.join(' ')}: ${(stderr || err.message).trim()}`)) : resolve()));
  });
}
