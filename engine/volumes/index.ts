/**
 * Volumes: docker's local driver, and volume plugins. Each volume is
 * data-root/volumes/<name>/ with `volume.json` (metadata and the ids of the
 * containers using it, written atomically) and, for the local driver, `_data/` (the
 * content, or the mount point of a tmpfs/bind-backed volume). A plugin's volume
 * (Driver "NAME:TAG", engine/plugins) lives where the plugin says: berthd asks it
 * over the VolumeDriver protocol to create, mount, unmount and remove it.
 */

/** A volume as docker's API shows it. */
export interface VolumeInfo {
  CreatedAt: string;
  /** "local", or the volume plugin's full name. */
  Driver: string;
  Labels: Record<string, string>;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string> | null;
  Scope: 'local';
  Status?: Record<string, unknown>;
  UsageData?: { Size: number; RefCount: number };
}

export interface VolumeMeta {
  name: string;
  createdAt: string;
  labels: Record<string, string>;
  options: Record<string, string>;
  anonymous: boolean;
  /** Containers that hold the volume (acquired, not yet released). */
  refs: string[];
  /** The volume plugin's full name; absent for the local driver. */
  driver?: string;
  /** A plugin volume's host path, as the plugin last gave it. */
  mountpoint?: string;
  status?: Record<string, unknown>;
}

/** The mount description containers hand over (C parses -v/--mount/Binds/Mounts/Tmpfs). */
export interface MountSpec {
  type: 'bind' | 'volume' | 'tmpfs';
  /** Volume name; empty for an anonymous volume. */
  source: string;
  /** A volume named by the engine at container create (docker's anonymous volumes); default: !source. */
  anonymous?: boolean;
  target: string;
  readOnly: boolean;
  /** Mount flags as containers parse them (["nocopy"]), or --mount's VolumeOptions ({NoCopy, Labels, DriverConfig}). */
  options: string[] | Record<string, any>;
  /** The driver of a volume this creates ("local" when absent) and its options. */
  driver?: string;
  driverOpts?: Record<string, string>;
}

export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

/** The contract with containers (engine.volumes). */
export interface VolumeUser {
  /** Creates the volume if needed, copies image content into a new empty one, records the user. */
  acquire(spec: MountSpec, containerId: string, rootfsPath: string | null): Promise<{ name: string; hostPath: string }>;
  /** Drops the container's uses; with removeAnonymous, its anonymous volumes nobody else uses go too. */
  release(containerId: string, opts?: { removeAnonymous?: boolean }): Promise<void>;
  /** Before a removal is answered: volume removals wait for the release() that follows (or the returned end). */
  releaseStarting?(containerId: string): () => void;
  /** Where a volume's data lives on the host (inspect's Mounts[].Source). */
  mountpoint(name: string): string;
  /** The volume's driver ("local" or a plugin's name). */
  driverOf?(name: string): string;
}
