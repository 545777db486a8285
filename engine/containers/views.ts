/** Docker-shaped JSON of containers: inspect and list entries. */
import type { ContainerRecord } from './record.js';
import { dockerState } from './state.js';
import { humanDuration } from './humanize.js';
import type { Mount } from '../snapshots/index.js';
import type { Health } from './health.js';
import { MASKED_PATHS, READONLY_PATHS } from '../runtime/defaults.js';

export function statusText(rec: ContainerRecord, now = Date.now(), health?: Health): string {
  const s = rec.state;
  switch (s.status) {
    case 'running': return `Up ${humanDuration(now - Date.parse(s.startedAt))}${health ? ` (${health.Status === 'starting' ? 'health: starting' : health.Status})` : ''}`;
    case 'paused': return `Up ${humanDuration(now - Date.parse(s.startedAt))} (Paused)`;
    case 'restarting': return `Restarting (${s.exitCode}) ${humanDuration(now - Date.parse(s.finishedAt))} ago`;
    case 'exited': return s.startedAt.startsWith('0001') && s.exitCode === 0 ? 'Created' : `Exited (${s.exitCode}) ${humanDuration(now - Date.parse(s.finishedAt))} ago`;
    case 'created': return 'Created';
    case 'removing': return 'Removal In Progress';
    case 'dead': return 'Dead';
  }
}

function mountPoints(rec: ContainerRecord, volumePath?: (name: string) => string, volumeDriver?: (name: string) => string): Record<string, unknown>[] {
  // --tmpfs mounts are in HostConfig.Tmpfs only; --mount type=tmpfs ones are listed.
  const tmpfsFlag = new Set(Object.keys(rec.hostConfig.Tmpfs ?? {}));
  return rec.mounts.filter((m) => !(m.type === 'tmpfs' && tmpfsFlag.has(m.target))).map((m) => ({
    Type: m.type,
    ...(m.type === 'volume' ? { Name: m.name ?? m.source, Driver: volumeDriver?.(m.name ?? m.source) ?? 'local' } : {}),
    Source: m.type === 'tmpfs' ? '' : m.type === 'volume' && volumePath && (m.name || m.source) ? volumePath(m.name || m.source) : m.source,
    Destination: m.target,
    Mode: m.type === 'bind' ? (m.readOnly ? 'ro' : '') : m.type === 'volume' ? 'z' : '',
    RW: !m.readOnly,
    Propagation: m.type === 'bind' ? (m.options.find((o) => /private|shared|slave/.test(o)) ?? 'rprivate') : '',
  }));
}

const ENDPOINT_DEFAULTS = { IPAMConfig: null, Links: null, Aliases: null, MacAddress: '', DriverOpts: null, GwPriority: 0, NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null };

function networkSettings(rec: ContainerRecord): Record<string, unknown> {
  // Attached (started at least once): the networks service's view.
  if (rec.networkSettings && 'SandboxKey' in rec.networkSettings) return rec.networkSettings;
  // Created only: the endpoints asked for, keyed by network name ("default" is the bridge), as dockerd shows them.
  const mode = !rec.hostConfig.NetworkMode || rec.hostConfig.NetworkMode === 'default' ? 'bridge' : rec.hostConfig.NetworkMode;
  const asked = (rec.networkSettings?.Networks ?? {}) as Record<string, Record<string, unknown> | null>;
  const networks: Record<string, unknown> = {};
  for (const [key, ep] of Object.entries(asked)) networks[key === 'default' ? 'bridge' : key] = { ...ENDPOINT_DEFAULTS, ...(ep ?? {}) };
  if (!Object.keys(networks).length && !mode.startsWith('container:')) networks[mode] = { ...ENDPOINT_DEFAULTS };
  return {
    Bridge: '', SandboxID: '', SandboxKey: '', HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0,
    Ports: {}, SecondaryIPAddresses: null, SecondaryIPv6Addresses: null, EndpointID: '', Gateway: '', GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0, IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', MacAddress: '',
    Networks: networks,
  };
}

function graphDriver(rec: ContainerRecord, mounts: Mount[] | undefined, mergedDir: string): Record<string, unknown> {
  const data: Record<string, string> = {};
  const m = mounts?.[0];
  if (m?.type === 'overlay') {
    for (const o of m.options) {
      const [k, v] = o.split('=');
      if (k === 'lowerdir') data.LowerDir = v;
      if (k === 'upperdir') data.UpperDir = v;
      if (k === 'workdir') data.WorkDir = v;
    }
    data.MergedDir = mergedDir;
  } else if (m) {
    data.Dir = m.source;
  }
  return { Name: rec.driver, Data: data };
}

export function hostConfigView(rec: ContainerRecord): Record<string, unknown> {
  const hc = rec.hostConfig;
  return {
    Binds: null, ContainerIDFile: '', LogConfig: hc.LogConfig, NetworkMode: hc.NetworkMode, PortBindings: {}, RestartPolicy: hc.RestartPolicy,
    AutoRemove: false, VolumeDriver: '', VolumesFrom: null, ConsoleSize: [0, 0], CapAdd: null, CapDrop: null, CgroupnsMode: 'host',
    Dns: [], DnsOptions: [], DnsSearch: [], ExtraHosts: null, GroupAdd: null, IpcMode: 'private', Cgroup: '', Links: null,
    OomScoreAdj: 0, PidMode: '', Privileged: false, PublishAllPorts: false, ReadonlyRootfs: false, SecurityOpt: null,
    UTSMode: '', UsernsMode: '', ShmSize: 67108864, Runtime: 'runc', Isolation: '', CpuShares: 0, Memory: 0, NanoCpus: 0,
    CgroupParent: '', BlkioWeight: 0, CpuPeriod: 0, CpuQuota: 0, CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0,
    CpusetCpus: '', CpusetMems: '', Devices: [], DeviceCgroupRules: null, DeviceRequests: null, MemoryReservation: 0,
    MemorySwap: 0, MemorySwappiness: null, OomKillDisable: null, PidsLimit: null, Ulimits: null, CpuCount: 0, CpuPercent: 0,
    IOMaximumIOps: 0, IOMaximumBandwidth: 0, Init: null,
    ...hc,
    // What the runtime applies (dockerd's defaults unless given; none when privileged).
    MaskedPaths: hc.Privileged ? null : hc.MaskedPaths ?? MASKED_PATHS,
    ReadonlyPaths: hc.Privileged ? null : hc.ReadonlyPaths ?? READONLY_PATHS,
  };
}

/** SizeRw: the writable layer; SizeRootFs: that plus the image (docker's "virtual" size). */
export interface Sizes { rw: number; image: number }

export function inspectView(rec: ContainerRecord, opts: { mounts?: Mount[]; mergedDir: string; sizeRw?: Sizes; execIds: string[]; health?: Health; volumePath?: (name: string) => string; volumeDriver?: (name: string) => string }): Record<string, unknown> {
  return {
    Id: rec.id,
    Created: rec.created,
    Path: rec.path,
    Args: rec.args,
    State: { ...dockerState(rec.state), ...(opts.health ? { Health: opts.health } : {}) },
    Image: rec.imageId,
    ResolvConfPath: rec.resolvConfPath,
    HostnamePath: rec.hostnamePath,
    HostsPath: rec.hostsPath,
    LogPath: rec.hostConfig.LogConfig?.Type === 'none' ? '' : rec.logPath,
    Name: `/${rec.name}`,
    RestartCount: rec.restartCount,
    Driver: rec.driver,
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: opts.execIds.length ? opts.execIds : null,
    HostConfig: hostConfigView(rec),
    GraphDriver: graphDriver(rec, opts.mounts, opts.mergedDir),
    ...(opts.sizeRw ? { SizeRw: opts.sizeRw.rw, SizeRootFs: opts.sizeRw.rw + opts.sizeRw.image } : {}),
    Mounts: mountPoints(rec, opts.volumePath, opts.volumeDriver),
    Config: { AttachStdin: false, AttachStdout: false, AttachStderr: false, Tty: false, OpenStdin: false, StdinOnce: false, Env: [], Cmd: null, Image: rec.image, Volumes: null, WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: {}, ...rec.config },
    NetworkSettings: networkSettings(rec),
  };
}

type PortMap = Record<string, Array<{ HostIp: string; HostPort: string }> | null>;

/** The list view's Ports, as dockerd's container view: one entry per binding, exposed ports bare. */
function listedPorts(ports: PortMap | undefined): Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }> {
  const out: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }> = [];
  for (const [key, bindings] of Object.entries(ports ?? {})) {
    const [port, proto = 'tcp'] = key.split('/');
    const PrivatePort = Number(port);
    if (!Number.isInteger(PrivatePort)) continue;
    if (!bindings?.length) {
      out.push({ PrivatePort, Type: proto });
      continue;
    }
    for (const b of bindings) {
      const PublicPort = Number(b.HostPort);
      out.push({ ...(b.HostIp ? { IP: b.HostIp } : {}), PrivatePort, ...(PublicPort ? { PublicPort } : {}), Type: proto });
    }
  }
  return out;
}

export function summaryView(rec: ContainerRecord, sizes?: Sizes, health?: Health): Record<string, unknown> {
  const cmd = [rec.path, ...rec.args].map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ');
  const ns = networkSettings(rec);
  return {
    Id: rec.id,
    Names: [`/${rec.name}`],
    Image: rec.image,
    ImageID: rec.imageId,
    Command: cmd,
    Created: Math.floor(Date.parse(rec.created) / 1000),
    Ports: rec.state.status === 'running' || rec.state.status === 'paused' ? listedPorts(ns.Ports as PortMap | undefined) : [],
    Labels: rec.config.Labels ?? {},
    State: rec.state.status,
    Status: statusText(rec, Date.now(), health),
    HostConfig: { NetworkMode: rec.hostConfig.NetworkMode ?? 'default' },
    NetworkSettings: { Networks: ns.Networks ?? {} },
    Mounts: mountPoints(rec),
    ...(sizes ? { SizeRw: sizes.rw, SizeRootFs: sizes.rw + sizes.image } : {}),
  };
}
