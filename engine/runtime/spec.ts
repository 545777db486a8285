/**
 * Builds the OCI config.json of a container from its docker Config/HostConfig, with
 * docker's defaults. The rootfs is mounted by the engine at root.path beforehand.
 */
import { statSync } from 'node:fs';
import { InvalidArgumentError } from '../errors.js';
import type { ContainerConfig, HostConfig, MountSpec } from '../containers/types.js';
import { sortByDepth } from '../containers/mounts.js';
import { DEFAULT_DEVICE_RULES, DEFAULT_SHM_SIZE, MASKED_PATHS, READONLY_PATHS, defaultMounts } from './defaults.js';
import type { OciDevice, OciDeviceRule, OciMount, OciRlimit, OciSpec } from './oci.js';
import { toOciResources } from './resources.js';
import { capabilitySet, parseSecurityOpt } from './security.js';

export type NetworkNamespace = { mode: 'new' } | { mode: 'host' } | { mode: 'path'; path: string };
/** --pid/--ipc/--uts: a namespace of its own (absent), the host's, or another container's. */
export type SharedNamespace = { mode: 'host' } | { mode: 'path'; path: string };

export interface SpecInput {
  id: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  rootfs: string;
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids: number[] };
  /** Mounts with host paths resolved (binds, volumes' host dirs, tmpfs). */
  mounts: MountSpec[];
  /** Host files bind-mounted at /etc/hostname, /etc/hosts, /etc/resolv.conf. */
  etcFiles: { hostname: string; hosts: string; resolvConf: string };
  network: NetworkNamespace;
  shared?: { pid?: SharedNamespace; ipc?: SharedNamespace; uts?: SharedNamespace };
  /** The static init binary, bind-mounted at /sbin/docker-init when HostConfig.Init. */
  initBinary?: string;
  cgroupsPath: string;
  annotations: Record<string, string>;
  consoleSize?: { height: number; width: number };
}

export interface SpecResult { spec: OciSpec; warnings: string[] }

const NAMESPACED_SYSCTL = /^(kernel\.(msgmax|msgmnb|msgmni|sem|shmall|shmmax|shmmni|shm_rmid_forced)|fs\.mqueue\..+|net\..+)$/;

function devMajorMinor(rdev: number): { major: number; minor: number } {
  return { major: ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff), minor: (rdev & 0xff) | ((rdev >> 12) & ~0xff) };
}

function hostDevices(hc: HostConfig): { devices: OciDevice[]; rules: OciDeviceRule[] } {
  const devices: OciDevice[] = [];
  const rules: OciDeviceRule[] = [];
  for (const d of hc.Devices ?? []) {
    let st;
    try {
      st = statSync(d.PathOnHost);
    } catch {
      throw new InvalidArgumentError(`error gathering device information while adding custom device "${d.PathOnHost}": no such file or directory`);
    }
    if (!st.isCharacterDevice() && !st.isBlockDevice()) throw new InvalidArgumentError(`"${d.PathOnHost}" is not a device node`);
    const type = st.isCharacterDevice() ? 'c' : 'b';
    const { major, minor } = devMajorMinor(st.rdev);
    devices.push({ path: d.PathInContainer || d.PathOnHost, type, major, minor, fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid });
    rules.push({ allow: true, type, major, minor, access: d.CgroupPermissions || 'rwm' });
  }
  return { devices, rules };
}

function rlimits(hc: HostConfig): OciRlimit[] | undefined {
  if (!hc.Ulimits?.length) return undefined;
  return hc.Ulimits.map((u) => {
    if (!/^[a-z]+$/.test(u.Name)) throw new InvalidArgumentError(`invalid ulimit type: ${u.Name}`);
    if (u.Soft > u.Hard) throw new InvalidArgumentError(`ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
    return { type: `RLIMIT_${u.Name.toUpperCase()}`, soft: u.Soft, hard: u.Hard };
  });
}

function userMounts(mounts: MountSpec[]): OciMount[] {
  return sortByDepth(mounts).map((m) => {
    if (m.type === 'tmpfs') return { destination: m.target, type: 'tmpfs', source: 'tmpfs', options: [...m.options, ...(m.readOnly ? ['ro'] : [])] };
    const opts = m.options.filter((o) => o !== 'nocopy');
    if (!opts.includes('rbind') && !opts.includes('bind')) opts.unshift('rbind');
    return { destination: m.target, type: 'bind', source: m.source, options: [...opts, ...(m.readOnly ? ['ro'] : [])] };
  });
}

export function buildSpec(input: SpecInput): SpecResult {
  const { config, hostConfig: hc } = input;
  const caps = capabilitySet(hc);
  const security = parseSecurityOpt(hc, caps);
  const privileged = !!hc.Privileged;

  const taken = new Set(input.mounts.map((m) => m.target));
  const mounts: OciMount[] = defaultMounts(hc.ShmSize || DEFAULT_SHM_SIZE)
    .filter((m) => !taken.has(m.destination))
    .map((m) => (privileged && (m.destination === '/sys' || m.destination === '/sys/fs/cgroup'))
      ? { ...m, options: (m.options ?? []).filter((o) => o !== 'ro') } : m);
  const etc: [string, string][] = [['/etc/hostname', input.etcFiles.hostname], ['/etc/hosts', input.etcFiles.hosts], ['/etc/resolv.conf', input.etcFiles.resolvConf]];
  for (const [dest, src] of etc) if (!taken.has(dest)) mounts.push({ destination: dest, type: 'bind', source: src, options: ['rbind', 'rprivate'] });
  if (hc.Init && input.initBinary) mounts.push({ destination: '/sbin/docker-init', type: 'bind', source: input.initBinary, options: ['bind', 'ro'] });
  mounts.push(...userMounts(input.mounts));

  const namespaces: { type: string; path?: string }[] = [];
  for (const type of ['pid', 'ipc', 'uts'] as const) {
    const share = input.shared?.[type];
    if (!share) namespaces.push({ type });
    else if (share.mode === 'path') namespaces.push({ type, path: share.path });
  }
  namespaces.push({ type: 'mount' });
  // Only a UTS namespace of its own gets the container's hostname (never the host's or another's).
  const ownUts = !input.shared?.uts;
  if (input.network.mode === 'new') namespaces.push({ type: 'network' });
  if (input.network.mode === 'path') namespaces.push({ type: 'network', path: input.network.path });

  const sysctl: Record<string, string> = {};
  for (const [k, v] of Object.entries(hc.Sysctls ?? {})) {
    if (!NAMESPACED_SYSCTL.test(k)) throw new InvalidArgumentError(`sysctl '${k}' is not allowed: only namespaced sysctls (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.*) can be set`);
    if (k.startsWith('net.')) {
      // The namespace is the host's or another container's: a write would reach them (runc refuses too).
      const mode = hc.NetworkMode ?? '';
      if (input.network.mode === 'host' || mode === 'host') throw new InvalidArgumentError(`sysctl '${k}' is not allowed in host network mode: it would change the host's setting; drop --sysctl ${k}`);
      if (mode.startsWith('container:')) throw new InvalidArgumentError(`sysctl '${k}' is not allowed with --network ${mode}: the network namespace is that container's; set it on ${mode.slice('container:'.length)} instead`);
    }
    sysctl[k] = String(v);
  }

  const { devices, rules } = hostDevices(hc);
  const resources = toOciResources(hc);
  resources.devices = privileged ? [{ allow: true, access: 'rwm' }] : [...DEFAULT_DEVICE_RULES, ...rules];

  const args = hc.Init && input.initBinary ? ['/sbin/docker-init', '--', ...input.args] : input.args;
  const spec: OciSpec = {
    ociVersion: '1.0.2',
    process: {
      terminal: !!config.Tty,
      user: { uid: input.user.uid, gid: input.user.gid, ...(input.user.additionalGids.length ? { additionalGids: input.user.additionalGids } : {}) },
      args,
      env: input.env,
      cwd: input.cwd || '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      noNewPrivileges: security.noNewPrivileges,
      ...(rlimits(hc) ? { rlimits: rlimits(hc) } : {}),
      ...(hc.OomScoreAdj ? { oomScoreAdj: hc.OomScoreAdj } : {}),
      ...(input.consoleSize ? { consoleSize: input.consoleSize } : {}),
    },
    root: { path: input.rootfs, readonly: !!hc.ReadonlyRootfs },
    ...(ownUts ? { hostname: config.Hostname || input.id.slice(0, 12) } : {}),
    ...(ownUts && config.Domainname ? { domainname: config.Domainname } : {}),
    mounts,
    annotations: input.annotations,
    linux: {
      namespaces,
      cgroupsPath: input.cgroupsPath,
      resources,
      ...(devices.length ? { devices } : {}),
      ...(Object.keys(sysctl).length ? { sysctl } : {}),
      ...(security.seccomp ? { seccomp: security.seccomp } : {}),
      ...(privileged ? {} : { maskedPaths: (hc.MaskedPaths as string[] | undefined) ?? MASKED_PATHS, readonlyPaths: (hc.ReadonlyPaths as string[] | undefined) ?? READONLY_PATHS }),
    },
  };
  return { spec, warnings: security.warnings };
}
