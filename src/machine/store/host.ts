/**
 * The machine record, in Docker Machine's config.json shape (ConfigVersion 3), so a
 * Docker Machine user recognises every field. Paths are absolute in memory and
 * relative to the store on disk (see paths.ts).
 */
export interface EngineOptions {
  ArbitraryFlags: string[];
  Dns: string[] | null;
  GraphDir: string;
  Env: string[];
  Ipv6: boolean;
  InsecureRegistry: string[];
  Labels: string[];
  LogLevel: string;
  StorageDriver: string;
  SelinuxEnabled: boolean;
  TlsVerify: boolean;
  RegistryMirror: string[];
  InstallURL: string;
}

export interface AuthOptions {
  CertDir: string;
  CaCertPath: string;
  CaPrivateKeyPath: string;
  CaCertRemotePath: string;
  ServerCertPath: string;
  ServerKeyPath: string;
  ClientKeyPath: string;
  ServerCertRemotePath: string;
  ServerKeyRemotePath: string;
  ClientCertPath: string;
  ServerCertSANs: string[];
  StorePath: string;
}

export interface HostOptions {
  Driver: string;
  Memory: number;
  Disk: number;
  EngineOptions: EngineOptions;
  /** Set by create --swarm-manager/--swarm-join (src/machine/swarm.ts), or imported from Docker Machine. */
  SwarmOptions: { IsSwarm: boolean; Master?: boolean; Discovery?: string; Host?: string; [key: string]: unknown };
  AuthOptions: AuthOptions;
}

/** Settings every driver keeps (libmachine's BaseDriver), plus its own fields. */
export interface DriverSettings {
  IPAddress: string;
  MachineName: string;
  SSHUser: string;
  SSHPort: number;
  SSHKeyPath: string;
  StorePath: string;
  EnginePort: number;
  [key: string]: unknown;
}

export interface HostConfig {
  ConfigVersion: number;
  Driver: DriverSettings;
  DriverName: string;
  HostOptions: HostOptions;
  Name: string;
}

export const CONFIG_VERSION = 3;

export function defaultEngineOptions(): EngineOptions {
  return {
    ArbitraryFlags: [], Dns: null, GraphDir: '', Env: [], Ipv6: false, InsecureRegistry: [], Labels: [],
    LogLevel: '', StorageDriver: '', SelinuxEnabled: false, TlsVerify: true, RegistryMirror: [], InstallURL: '',
  };
}
