import { posix } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import type { MountSpec as ContainerMount } from '../containers/types.js';


/**
 * Anonymous volumes for the container's Config.Volumes (the image's VOLUME and
 * `-v /path`), except where an explicit mount already sits.
 */
export function anonymousVolumes(volumes: Record<string, unknown> | null | undefined, existing: ContainerMount[]): ContainerMount[] {
  const taken = new Set(existing.map((m) => m.target));
  const out: ContainerMount[] = [];
  for (const path of Object.keys(volumes ?? {})) {
    if (!path.startsWith('/')) throw new InvalidArgumentError(`invalid volume path "${path}": it must be absolute`);
    const target = posix.normalize(path).replace(/(.)\/$/, '$1');
    if (target === '/') throw new InvalidArgumentError('invalid volume: destination can\'t be \'/\'');
    if (taken.has(target)) continue;
    taken.add(target);
    out.push({ type: 'volume', source: '', target, readOnly: false, options: [] });
  }
  return out;
}

/**
 * --volumes-from REF[:ro|:rw]: the volumes and binds of another container, under the
 * same paths (ro/rw override each mount's own mode), unless an explicit mount is there.
 */
export function volumesFrom(specs: string[] | null | undefined, mountsOf: (ref: string) => ContainerMount[], existing: ContainerMount[]): ContainerMount[] {
  const taken = new Set(existing.map((m) => m.target));
  const out: ContainerMount[] = [];
  for (const spec of specs ?? []) {
    const [ref, mode, extra] = spec.split(':');
    if (!ref || extra !== undefined || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) {
      throw new InvalidArgumentError(`invalid --volumes-from "${spec}": use CONTAINER[:ro|:rw]`);
    }
    for (const m of mountsOf(ref)) {
      if (m.type === 'tmpfs' || taken.has(m.target)) continue;
      if (m.type === 'volume' && !m.name && !m.source) {
        throw new InvalidArgumentError(`--volumes-from ${ref}: its anonymous volume at ${m.target} does not exist yet: start ${ref} once first`);
      }
      taken.add(m.target);
      const readOnly = mode === 'ro' ? true : mode === 'rw' ? false : m.readOnly;
      out.push(m.type === 'volume'
        ? { type: 'volume', source: m.name ?? m.source, name: m.name ?? m.source, target: m.target, readOnly, options: m.options.filter((o) => o !== 'nocopy') }
        : { ...m, readOnly });
    }
  }
  return out;
}
