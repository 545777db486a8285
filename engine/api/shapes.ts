/**
 * The JSON types of request bodies, checked once when a body is read (as dockerd's
 * json.Unmarshal does): a wrong type is a 400 naming the field, never a TypeError deep
 * in a service. null stands for "not set" anywhere; unknown fields are ignored. Keys are
 * already in dockerd's case (canonicalizeBody, body.ts); the one change made here is where
 * the shape says strslice.StrSlice (Cmd, Entrypoint, Shell of a container's config): a
 * string there becomes its one-element list. Elsewhere a list of strings must be a list
 * (exec's Cmd, Healthcheck.Test), as dockerd's []string.
 */
import { InvalidArgumentError } from '../errors.js';

type Kind = 'string' | 'bool' | 'int' | 'any' | 'strslice' | { arr: Kind } | { map: Kind } | { obj: Shape };
interface Shape { [field: string]: Kind }

const S = 'string', B = 'bool', I = 'int';
const A = (k: Kind): Kind => ({ arr: k });
const M = (k: Kind): Kind => ({ map: k });
const O = (s: Shape): Kind => ({ obj: s });

const throttle = A(O({ Path: S, Rate: I }));
const hostConfig: Shape = {
  Binds: A(S), ContainerIDFile: S, LogConfig: O({ Type: S, Config: M(S) }), NetworkMode: S,
  PortBindings: M(A(O({ HostIp: S, HostPort: S }))), RestartPolicy: O({ Name: S, MaximumRetryCount: I }),
  AutoRemove: B, VolumeDriver: S, VolumesFrom: A(S), ConsoleSize: A(I), Annotations: M(S), CapAdd: A(S), CapDrop: A(S),
  CgroupnsMode: S, Dns: A(S), DnsOptions: A(S), DnsSearch: A(S), ExtraHosts: A(S), GroupAdd: A(S), IpcMode: S, Cgroup: S,
  Links: A(S), OomScoreAdj: I, PidMode: S, Privileged: B, PublishAllPorts: B, ReadonlyRootfs: B, SecurityOpt: A(S),
  StorageOpt: M(S), Tmpfs: M(S), UTSMode: S, UsernsMode: S, ShmSize: I, Sysctls: M(S), Runtime: S, Isolation: S,
  CpuShares: I, Memory: I, NanoCpus: I, CgroupParent: S, BlkioWeight: I, BlkioWeightDevice: A(O({ Path: S, Weight: I })),
  BlkioDeviceReadBps: throttle, BlkioDeviceWriteBps: throttle, BlkioDeviceReadIOps: throttle, BlkioDeviceWriteIOps: throttle,
  CpuPeriod: I, CpuQuota: I, CpuRealtimePeriod: I, CpuRealtimeRuntime: I, CpusetCpus: S, CpusetMems: S,
  Devices: A(O({ PathOnHost: S, PathInContainer: S, CgroupPermissions: S })), DeviceCgroupRules: A(S), DeviceRequests: A(O({})),
  KernelMemory: I, KernelMemoryTCP: I, MemoryReservation: I, MemorySwap: I, MemorySwappiness: I, OomKillDisable: B,
  PidsLimit: I, Ulimits: A(O({ Name: S, Soft: I, Hard: I })), CpuCount: I, CpuPercent: I, IOMaximumIOps: I,
  IOMaximumBandwidth: I, MaskedPaths: A(S), ReadonlyPaths: A(S), Init: B,
  Mounts: A(O({
    Type: S, Source: S, Target: S, ReadOnly: B, Consistency: S,
    BindOptions: O({ Propagation: S, NonRecursive: B, CreateMountpoint: B, ReadOnlyNonRecursive: B, ReadOnlyForceRecursive: B }),
    VolumeOptions: O({ NoCopy: B, Labels: M(S), DriverConfig: O({ Name: S, Options: M(S) }), Subpath: S }),
    TmpfsOptions: O({ SizeBytes: I, Mode: I }),
  })),
};
const endpoint: Shape = {
  IPAMConfig: O({ IPv4Address: S, IPv6Address: S, LinkLocalIPs: A(S) }), Links: A(S), Aliases: A(S), MacAddress: S,
  NetworkID: S, EndpointID: S, Gateway: S, IPAddress: S, IPPrefixLen: I, DriverOpts: M(S), DNSNames: A(S),
};
const config: Shape = {
  Hostname: S, Domainname: S, User: S, AttachStdin: B, AttachStdout: B, AttachStderr: B, ExposedPorts: M('any'), Tty: B,
  OpenStdin: B, StdinOnce: B, Env: A(S), Cmd: 'strslice', ArgsEscaped: B, Image: S, Volumes: M('any'), WorkingDir: S,
  Entrypoint: 'strslice', NetworkDisabled: B, MacAddress: S, OnBuild: A(S), Labels: M(S), StopSignal: S, StopTimeout: I,
  Shell: 'strslice', Healthcheck: O({ Test: A(S), Interval: I, Timeout: I, Retries: I, StartPeriod: I, StartInterval: I }),
};

/** Keyed by the route as registered: METHOD and path pattern. */
const BODIES: Record<string, Shape> = {
  'POST /containers/create': { ...config, HostConfig: O(hostConfig), NetworkingConfig: O({ EndpointsConfig: M(O(endpoint)) }) },
  'POST /containers/:id/update': hostConfig,
  'POST /commit': config,
  'POST /containers/:id/exec': {
    AttachStdin: B, AttachStdout: B, AttachStderr: B, DetachKeys: S, ConsoleSize: A(I), Tty: B, Env: A(S), Cmd: A(S),
    Privileged: B, User: S, WorkingDir: S,
  },
  'POST /exec/:id/start': { Detach: B, Tty: B, ConsoleSize: A(I) },
  'POST /networks/create': {
    Name: S, CheckDuplicate: B, Driver: S, Scope: S, Internal: B, Attachable: B, Ingress: B, ConfigOnly: B,
    ConfigFrom: O({ Network: S }), EnableIPv4: B, EnableIPv6: B, Options: M(S), Labels: M(S),
    IPAM: O({ Driver: S, Options: M(S), Config: A(O({ Subnet: S, IPRange: S, Gateway: S, AuxiliaryAddresses: M(S) })) }),
  },
  'POST /networks/:id/connect': { Container: S, EndpointConfig: O(endpoint) },
  'POST /networks/:id/disconnect': { Container: S, Force: B },
  'POST /volumes/create': { Name: S, Driver: S, DriverOpts: M(S), Labels: M(S) },
};

/** What Go's decoder calls a JSON value in its errors: "string", "number", "number 1.5", "array". */
function jsonTypeOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isSafeInteger(v) ? 'number' : `number ${v}`;
  if (typeof v === 'boolean') return 'bool';
  return typeof v === 'object' ? 'object' : typeof v;
}

/** The Go type dockerd decodes a kind into, for the message. */
function goTypeOf(kind: Kind): string {
  if (kind === 'int') return 'int64';
  if (kind === 'strslice') return 'strslice.StrSlice';
  if (typeof kind === 'string') return kind;
  if ('arr' in kind) return `[]${goTypeOf(kind.arr)}`;
  if ('map' in kind) return `map[string]${goTypeOf(kind.map)}`;
  return 'struct';
}

/**
 * Go's json.UnmarshalTypeError text, which clients and scripts match on:
 * "json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Memory of type int64"
 * (the struct named is the outermost object holding the field, as dockerd's nesting gives it).
 */
function unmarshalError(v: unknown, kind: Kind, at: string, detail: string): InvalidArgumentError {
  const path = at.replace(/\[\d+\]|\["[^"]*"\]/g, '');
  const struct = path.includes('.') ? path.slice(0, path.indexOf('.')) : 'Config';
  return new InvalidArgumentError(`invalid JSON: json: cannot unmarshal ${jsonTypeOf(v)} into Go struct field ${struct}.${path} of type ${goTypeOf(kind)} (${at} must be ${detail})`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks `v`; returns what replaces it (a strslice given as a string), else undefined. */
function check(v: unknown, kind: Kind, at: string): unknown {
  if (v === null || v === undefined || kind === 'any') return;
  const fail = (want: string) => { throw unmarshalError(v, kind, at, want); };
  if (kind === 'string') { if (typeof v !== 'string') fail('a string'); return; }
  if (kind === 'bool') { if (typeof v !== 'boolean') fail('true or false'); return; }
  if (kind === 'int') { if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(`an integer (at most ${Number.MAX_SAFE_INTEGER} in size)`); return; }
  if (kind === 'strslice') {
    if (typeof v === 'string') return [v];
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) fail('a string or an array of strings');
    return;
  }
  if ('arr' in kind) {
    if (!Array.isArray(v)) fail('an array');
    (v as unknown[]).forEach((e, i) => check(e, kind.arr, `${at}[${i}]`));
    return;
  }
  if (!isObject(v)) fail('an object');
  const o = v as Record<string, unknown>;
  if ('map' in kind) {
    for (const [k, e] of Object.entries(o)) check(e, kind.map, `${at}[${JSON.stringify(k)}]`);
    return;
  }
  for (const [k, sub] of Object.entries(kind.obj)) {
    if (!Object.hasOwn(o, k)) continue;
    const replaced = check(o[k], sub, at ? `${at}.${k}` : k);
    if (replaced !== undefined) o[k] = replaced;
  }
}

/** Throws InvalidArgumentError when a body of the route has a field of the wrong JSON type; a string where a strslice goes becomes its list. */
export function checkBody(route: string, body: unknown): void {
  const shape = BODIES[route];
  if (!shape || body === null || body === undefined) return;
  if (!isObject(body)) throw new InvalidArgumentError(`invalid JSON: json: cannot unmarshal ${jsonTypeOf(body)} into Go value of type struct`);
  check(body, { obj: shape }, '');
}
