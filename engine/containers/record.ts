/** What berthd persists about one container (data-root/containers/<id>/container.json). */
import type { ContainerState } from './state.js';
import type { ContainerConfig, HostConfig, MountSpec } from './types.js';

export interface ContainerRecord {
  id: string;
  name: string;
  created: string;
  /** As the client spelled it, and the resolved config digest. */
  image: string;
  imageId: string;
  path: string;
  args: string[];
  config: ContainerConfig;
  hostConfig: HostConfig;
  state: ContainerState;
  restartCount: number;
  /** Set by stop/kill from the API: `always`/`unless-stopped` don't bring it back. */
  manuallyStopped: boolean;
  mounts: MountSpec[];
  networkSettings: Record<string, unknown>;
  snapshotKey: string;
  driver: string;
  logPath: string;
  hostnamePath: string;
  hostsPath: string;
  resolvConfPath: string;
}
