/**
 * Volumes: docker's local driver. Each volume is data-root/volumes/<name>/ with
 * `_data/` (the content, or the mount point of a tmpfs/bind-backed volume) and
 * `volume.json` (metadata and the ids of the containers using it, written atomically).
 */

/** A volume as docker's API shows it. */
export interface VolumeInfo {
  CreatedAt: string;
  Driver: 'local';
  Labels: Record<string, string>;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string> | null;
  Scope: 'local';
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
}

export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

/** The contract with containers (engine.volumes). */
export interface VolumeUser {
  /** Creates the volume if needed, copies image content into a new empty one, records the user. */
  acquire(spec: MountSpec, containerId: string, rootfsPath: string | null): Promise<{ name: string; hostPath: string }>;
  /** Drops the container's uses; with removeAnonymous, its anonymous volumes nobody else uses go too. */
  release(containerId: string, opts?: { removeAnonymous?: boolean }): Promise<void>;
  /** Where a volume's data lives on the host (inspect's Mounts[].Source). */
  mountpoint(name: string): string;
}
