/** The subset of the OCI runtime-spec config.json that berth writes. */
export interface OciMount { destination: string; type?: string; source?: string; options?: string[] }
export interface OciDeviceRule { allow: boolean; type?: string; major?: number; minor?: number; access?: string }
export interface OciDevice { path: string; type: string; major: number; minor: number; fileMode?: number; uid?: number; gid?: number }
export interface OciRlimit { type: string; hard: number; soft: number }

export interface OciSeccompArg { index: number; value: number; valueTwo?: number; op: string }
export interface OciSeccompRule { names: string[]; action: string; errnoRet?: number; args?: OciSeccompArg[] }
export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  syscalls: OciSeccompRule[];
}

export interface OciResources {
  devices?: OciDeviceRule[];
  memory?: { limit?: number; swap?: number; reservation?: number; swappiness?: number };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
  pids?: { limit: number };
  blockIO?: { weight?: number };
}

export interface OciProcess {
  terminal?: boolean;
  user: { uid: number; gid: number; additionalGids?: number[] };
  args: string[];
  env: string[];
  cwd: string;
  capabilities?: { bounding: string[]; effective: string[]; permitted: string[]; inheritable?: string[]; ambient?: string[] };
  rlimits?: OciRlimit[];
  noNewPrivileges?: boolean;
  oomScoreAdj?: number;
  consoleSize?: { height: number; width: number };
}

export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly?: boolean };
  hostname?: string;
  domainname?: string;
  mounts: OciMount[];
  annotations?: Record<string, string>;
  linux: {
    namespaces: { type: string; path?: string }[];
    cgroupsPath?: string;
    resources?: OciResources;
    devices?: OciDevice[];
    sysctl?: Record<string, string>;
    seccomp?: OciSeccomp;
    maskedPaths?: string[];
    readonlyPaths?: string[];
  };
}
