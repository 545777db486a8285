/** Docker API shapes for containers (the subset berthd reads and returns). */

export interface HealthConfig { Test?: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number }

export interface ContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, object> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Healthcheck?: HealthConfig | null;
  Image?: string;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  StopTimeout?: number | null;
}

export interface RestartPolicy { Name?: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure'; MaximumRetryCount?: number }
export interface Ulimit { Name: string; Soft: number; Hard: number }
export interface DeviceMapping { PathOnHost: string; PathInContainer?: string; CgroupPermissions?: string }
export interface MountRequest {
  Type?: 'bind' | 'volume' | 'tmpfs' | string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  BindOptions?: { Propagation?: string; CreateMountpoint?: boolean };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null };
}

export interface HostConfig {
  Binds?: string[] | null;
  Mounts?: MountRequest[] | null;
  Tmpfs?: Record<string, string> | null;
  NetworkMode?: string;
  AutoRemove?: boolean;
  RestartPolicy?: RestartPolicy;
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuQuota?: number;
  CpuPeriod?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  PidsLimit?: number | null;
  Ulimits?: Ulimit[] | null;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  Privileged?: boolean;
  ReadonlyRootfs?: boolean;
  SecurityOpt?: string[] | null;
  Devices?: DeviceMapping[] | null;
  Sysctls?: Record<string, string> | null;
  ShmSize?: number;
  Init?: boolean | null;
  OomScoreAdj?: number;
  GroupAdd?: string[] | null;
  LogConfig?: { Type?: string; Config?: Record<string, string> };
  PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[]> | null;
  Dns?: string[] | null;
  DnsSearch?: string[] | null;
  DnsOptions?: string[] | null;
  ExtraHosts?: string[] | null;
  PidMode?: string;
  IpcMode?: string;
  UTSMode?: string;
  [key: string]: unknown;
}

export interface NetworkingConfig { EndpointsConfig?: Record<string, unknown> }

export interface CreateRequest extends ContainerConfig {
  HostConfig?: HostConfig;
  NetworkingConfig?: NetworkingConfig;
}

/** A mount of a container after parsing -v / --mount / --tmpfs. */
export interface MountSpec {
  type: 'bind' | 'volume' | 'tmpfs';
  source: string;
  target: string;
  readOnly: boolean;
  options: string[];
  /** For volumes: the volume name and its host path once acquired. */
  name?: string;
  /** For volumes: the directory inside the volume that is mounted (Mount.VolumeOptions.Subpath, API 1.45). */
  subpath?: string;
  /** For volumes: the driver that creates it if it doesn't exist (--volume-driver, --mount volume-driver=), and its options. */
  driver?: string;
  driverOpts?: Record<string, string>;
}
