/** Parses -v/Binds, --mount/Mounts and --tmpfs/Tmpfs into MountSpecs, with docker's rules. */
import { existsSync } from 'node:fs';
import { isAbsolute, posix } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import type { HostConfig, MountSpec } from './types.js';

const BIND_MODES = new Set(['ro', 'rw', 'z', 'Z', 'nocopy', 'shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate', 'consistent', 'cached', 'delegated']);

function cleanTarget(target: string, what: string): string {
  if (!target || !target.startsWith('/')) throw new InvalidArgumentError(`invalid mount config for type "${what}": invalid mount path: '${target}' mount path must be absolute`);
  const clean = posix.normalize(target);
  if (clean === '/') throw new InvalidArgumentError(`invalid specification: destination can't be '/'`);
  return clean.replace(/\/$/, '');
}

function propagation(modes: string[]): string {
  return modes.find((m) => /^r?(shared|slave|private)$/.test(m)) ?? 'rprivate';
}

function checkBindSource(source: string, create: boolean): void {
  if (!existsSync(source)) {
    if (create) return;
    throw new InvalidArgumentError(`invalid mount config for type "bind": bind source path does not exist: ${source}`);
  }
}

export function parseBind(spec: string): MountSpec {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3) throw new InvalidArgumentError(`invalid volume specification: '${spec}'`);
  const [source, target, modeList = ''] = parts;
  const modes = modeList ? modeList.split(',') : [];
  for (const m of modes) if (!BIND_MODES.has(m)) throw new InvalidArgumentError(`invalid mode: ${m} in volume specification '${spec}'`);
  const readOnly = modes.includes('ro');
  const dest = cleanTarget(target, 'bind');
  if (isAbsolute(source)) {
    // -v with a missing host path: docker creates the directory.
    return { type: 'bind', source: posix.normalize(source), target: dest, readOnly, options: ['rbind', propagation(modes)] };
  }
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(source)) {
    throw new InvalidArgumentError(`"${source}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
  return { type: 'volume', source, name: source, target: dest, readOnly, options: modes.includes('nocopy') ? ['nocopy'] : [] };
}

export function parseTmpfs(target: string, options: string): MountSpec {
  const opts = options ? options.split(',').filter(Boolean) : [];
  for (const o of opts) {
    if (!/^(rw|ro|noexec|exec|nosuid|suid|nodev|dev|size=\d+[kmgKMG%]?|mode=[0-7]{3,4}|uid=\d+|gid=\d+|nr_inodes=\d+[kmgKMG]?|mpol=\S+)$/.test(o)) {
      throw new InvalidArgumentError(`invalid tmpfs option "${o}" for ${target}`);
    }
  }
  const base = ['noexec', 'nosuid', 'nodev'].filter((d) => !opts.includes(d.replace(/^no/, '')));
  return { type: 'tmpfs', source: 'tmpfs', target: cleanTarget(target, 'tmpfs'), readOnly: opts.includes('ro'), options: [...base, ...opts.filter((o) => o !== 'ro' && o !== 'rw')] };
}

/** All mounts of a container, in the order they must be applied (parents first). */
export function parseMounts(hc: HostConfig): MountSpec[] {
  const out: MountSpec[] = [];
  const volumeDriver: { driver?: string } = typeof hc.VolumeDriver === 'string' && hc.VolumeDriver && hc.VolumeDriver !== 'local' ? { driver: hc.VolumeDriver } : {};
  for (const b of hc.Binds ?? []) {
    const m = parseBind(b);
    out.push(m.type === 'volume' ? { ...m, ...volumeDriver } : m);
  }
  for (const m of hc.Mounts ?? []) {
    const type = m.Type ?? 'volume';
    if (type === 'bind') {
      if (!m.Source || !isAbsolute(m.Source)) throw new InvalidArgumentError(`invalid mount config for type "bind": invalid mount path: '${m.Source ?? ''}' mount path must be absolute`);
      checkBindSource(m.Source, m.BindOptions?.CreateMountpoint ?? false);
      out.push({ type: 'bind', source: posix.normalize(m.Source), target: cleanTarget(m.Target ?? '', 'bind'), readOnly: !!m.ReadOnly, options: ['rbind', m.BindOptions?.Propagation || 'rprivate'] });
    } else if (type === 'tmpfs') {
      const opts: string[] = [];
      if (m.TmpfsOptions?.SizeBytes) opts.push(`size=${m.TmpfsOptions.SizeBytes}`);
      if (m.TmpfsOptions?.Mode) opts.push(`mode=${m.TmpfsOptions.Mode.toString(8)}`);
      const spec = parseTmpfs(m.Target ?? '', opts.join(','));
      spec.readOnly = !!m.ReadOnly;
      out.push(spec);
    } else if (type === 'volume') {
      const subpath = (m.VolumeOptions as { Subpath?: string } | undefined)?.Subpath;
      if (subpath && (isAbsolute(subpath) || posix.normalize(subpath).split('/').includes('..'))) {
        throw new InvalidArgumentError(`invalid mount config: subpath must be a relative path within the volume: ${subpath}`);
      }
      if (subpath && !m.Source) throw new InvalidArgumentError('invalid mount config: subpath needs a named volume (Source)');
      const dc = m.VolumeOptions?.DriverConfig;
      const driver = dc?.Name && dc.Name !== 'local' ? { driver: dc.Name, ...(dc.Options ? { driverOpts: dc.Options } : {}) } : volumeDriver;
      out.push({ type: 'volume', source: m.Source ?? '', name: m.Source || undefined, target: cleanTarget(m.Target ?? '', 'volume'), readOnly: !!m.ReadOnly, options: m.VolumeOptions?.NoCopy ? ['nocopy'] : [], ...(subpath ? { subpath: posix.normalize(subpath) } : {}), ...driver });
    } else {
      throw new InvalidArgumentError(`mount type "${type}" is not supported: use bind, volume or tmpfs`);
    }
  }
  for (const [target, opts] of Object.entries(hc.Tmpfs ?? {})) out.push(parseTmpfs(target, opts));
  const seen = new Set<string>();
  for (const m of out) {
    if (seen.has(m.target)) throw new InvalidArgumentError(`Duplicate mount point: ${m.target}`);
    seen.add(m.target);
  }
  return out;
}

export function sortByDepth<T extends { target: string }>(mounts: T[]): T[] {
  return [...mounts].sort((a, b) => a.target.split('/').length - b.target.split('/').length);
}
