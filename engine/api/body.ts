/**
 * Request bodies decoded as Go's encoding/json does for dockerd's types: a key that is not
 * a field's exact name matches it case-insensitively (`detachKeys` sets DetachKeys), while
 * the keys of map-typed fields (Labels, Options, ...) are user data and stay as sent.
 *
 * FIELDS are the property names of the Engine API v1.47 request bodies (swarm and build
 * excepted), MAPS those of them whose value is a map.
 */
import { InvalidArgumentError } from '../errors.js';

const FIELDS = new Set((
  'AccessMode AccessibilityRequirements Aliases Annotations ArgsEscaped AttachStderr AttachStdin '+
  'AttachStdout Attachable AutoRemove AuxiliaryAddresses Availability BindOptions Binds '+
  'BlkioDeviceReadBps BlkioDeviceReadIOps BlkioDeviceWriteBps BlkioDeviceWriteIOps BlkioWeight '+
  'BlkioWeightDevice CapAdd CapDrop Capabilities CapacityRange Cgroup CgroupParent CgroupPermissions '+
  'CgroupnsMode ClusterVolumeSpec Cmd Config ConfigFrom ConfigOnly Consistency ConsoleSize Container '+
  'ContainerIDFile Count CpuCount CpuPercent CpuPeriod CpuQuota CpuRealtimePeriod CpuRealtimeRuntime '+
  'CpuShares CpusetCpus CpusetMems CreateMountpoint DNSNames Description Detach DetachKeys '+
  'DeviceCgroupRules DeviceIDs DeviceRequests Devices Dns DnsOptions DnsSearch Domainname Driver '+
  'DriverConfig DriverOpts EnableIPv4 EnableIPv6 EndpointConfig EndpointID EndpointsConfig Entrypoint '+
  'Env ExposedPorts ExtraHosts Force Gateway GlobalIPv6Address GlobalIPv6PrefixLen Group GroupAdd Hard '+
  'Healthcheck HostConfig HostIp HostPort Hostname IOMaximumBandwidth IOMaximumIOps IPAM IPAMConfig '+
  'IPAddress IPPrefixLen IPRange IPv4Address IPv6Address IPv6Gateway Image Ingress Init '+
  'Internal Interval IpcMode Isolation KernelMemoryTCP Key Labels LimitBytes LinkLocalIPs Links '+
  'LogConfig MacAddress MaskedPaths MaximumRetryCount Memory MemoryReservation MemorySwap '+
  'MemorySwappiness Mode MountVolume Mounts Name NanoCpus Network NetworkDisabled NetworkID NetworkMode '+
  'NetworkingConfig NoCopy NonRecursive OnBuild OomKillDisable OomScoreAdj OpenStdin Options Path '+
  'PathInContainer PathOnHost PidMode PidsLimit PortBindings Preferred Privileged Propagation '+
  'PublishAllPorts Rate ReadOnly ReadOnlyForceRecursive ReadOnlyNonRecursive ReadonlyPaths '+
  'ReadonlyRootfs RequiredBytes Requisite RestartPolicy Retries Runtime Scope Secret '+
  'Secrets SecurityOpt Segments Sharing Shell ShmSize SizeBytes Soft Source Spec StartInterval '+
  'StartPeriod StdinOnce StopSignal StopTimeout StorageOpt Subnet Subpath Sysctls Target Test Timeout '+
  'Tmpfs TmpfsOptions Tty Type UTSMode Ulimits User UsernsMode Value VolumeDriver VolumeOptions Volumes '+
  'VolumesFrom Weight WorkingDir auth email identitytoken password registrytoken serveraddress username'
).split(' '));

const MAPS = new Set('Annotations AuxiliaryAddresses Config DriverOpts EndpointsConfig ExposedPorts Labels Options PortBindings Segments StorageOpt Sysctls Tmpfs Volumes'.split(' '));

const CANONICAL = new Map<string, string>();
for (const f of FIELDS) if (!CANONICAL.has(f.toLowerCase())) CANONICAL.set(f.toLowerCase(), f);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deeper than any Engine API body; bounds the recursion (Go's decoder stops at 10000). */
const MAX_DEPTH = 512;

/** Returns `value` with struct keys in their canonical case; maps keep their keys. */
export function canonicalizeBody(value: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH) throw new InvalidArgumentError(`invalid JSON: the body nests deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(value)) return value.map((v) => canonicalizeBody(v, depth + 1));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const name = FIELDS.has(key) ? key : CANONICAL.get(key.toLowerCase()) ?? key;
    // An exact name wins over a case-insensitive match of the same field, as in Go.
    if (name !== key && Object.prototype.hasOwnProperty.call(value, name)) continue;
    out[name] = MAPS.has(name) && isPlainObject(v) ? mapValues(v, depth + 1) : canonicalizeBody(v, depth + 1);
  }
  return out;
}

function mapValues(m: Record<string, unknown>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) out[k] = canonicalizeBody(v, depth + 1);
  return out;
}
