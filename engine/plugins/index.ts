/**
 * Managed plugins (docker's v2 plugins), as dockerd keeps them:
 *
 *   data-root/plugins/<id>/plugin.json        the plugin object (written atomically)
 *   data-root/plugins/<id>/rootfs/            the plugin's root filesystem
 *   data-root/plugins/<id>/propagated-mount/  host side of Config.PropagatedMount (rshared)
 *   data-root/plugins/<id>/rootfs.new/, upgrade.json   an upgrade in progress (store.ts)
 *   data-root/plugins/<id>/plugin.log         the plugin's output (json-file)
 *   data-root/plugins/tmp/                    creates, pulls and removals in progress (emptied at start)
 *   exec-root/plugins/<id prefix>/            the plugin's /run/docker/plugins (its socket)
 *   exec-root/plugins/runtime/                --root of the OCI runtime for plugins
 *
 * A create (or pull) is unpacked under tmp/ and renamed into place once plugin.json is
 * written, so a crash leaves either a whole plugin or nothing. Enabled plugins
 * run as containers of the engine's OCI runtime (runner.ts), are started again
 * when berthd starts or when they exit, and speak docker's plugin protocol on their
 * socket (protocol.ts). Volume plugins serve the VolumeDriver API (volumedriver.ts);
 * registries hold plugins as distribution.ts says.
 */

/** config.json of a v2 plugin, as the API shows it (PluginConfig). */
export interface PluginConfig {
  DockerVersion?: string;
  Description: string;
  Documentation: string;
  Interface: { Types: string[]; Socket: string; ProtocolScheme?: string };
  Entrypoint: string[];
  WorkDir: string;
  User?: { UID?: number; GID?: number };
  Network: { Type: string };
  Linux: { Capabilities: string[]; AllowAllDevices: boolean; Devices: PluginDevice[] };
  PropagatedMount: string;
  IpcHost: boolean;
  PidHost: boolean;
  Mounts: PluginMount[];
  Env: PluginEnv[];
  Args: { Name: string; Description: string; Settable: string[]; Value: string[] };
  rootfs?: { type: string; diff_ids: string[] };
}

export interface PluginMount {
  Name: string;
  Description: string;
  Settable: string[];
  Source: string | null;
  Destination: string;
  Type: string;
  Options: string[];
}

export interface PluginDevice { Name: string; Description: string; Settable: string[]; Path: string | null }

export interface PluginEnv { Name: string; Description: string; Settable: string[]; Value: string | null }

export interface PluginSettings {
  Mounts: PluginMount[];
  Env: string[];
  Args: string[];
  Devices: PluginDevice[];
}

/** GET /plugins/{name}/json */
export interface PluginObject {
  Id: string;
  Name: string;
  Enabled: boolean;
  Settings: PluginSettings;
  PluginReference?: string;
  Config: PluginConfig;
}

export interface PluginPrivilege { Name: string; Description: string; Value: string[] }

/** A volume as a VolumeDriver plugin describes it, Mountpoint already on the host. */
export interface DriverVolume { Name: string; Mountpoint: string; Status?: Record<string, unknown>; CreatedAt?: string }

/** What the volumes service needs of a volume plugin (plugins.volumeDriver(name)). */
export interface VolumeDriver {
  /** The plugin's full name ("name:tag"), the volume's Driver. */
  readonly name: string;
  create(name: string, opts: Record<string, string>): Promise<void>;
  get(name: string): Promise<DriverVolume>;
  remove(name: string): Promise<void>;
  mount(name: string, id: string): Promise<string>;
  unmount(name: string, id: string): Promise<void>;
  capabilities(): Promise<{ Scope: string }>;
}

/** The contract the volumes service uses (engine.plugins). */
export interface VolumePlugins {
  /** The enabled plugin NAME (":latest" optional) that implements VolumeDriver, or an error naming the fix. */
  volumeDriver(name: string): VolumeDriver;
  /** The full name of a plugin ("vol" -> "vol:latest"), for names given by users. */
  fullName(name: string): string;
}

export { PluginService } from './service.js';
