/** POST /commit: the container's writable layer becomes a new image layer; `changes` edit the config. */
import type { ImageConfig } from '../images/index.js';
import type { ContainerConfig } from './types.js';

type Cfg = NonNullable<ImageConfig['config']>;

/** The committed image's config: the container's, overridden by the request body. */
export function commitConfig(container: ContainerConfig, body: ContainerConfig | undefined): Cfg {
  const c = { ...container, ...(body ?? {}) };
  const cfg: Cfg = {};
  if (c.User) cfg.User = c.User;
  if (c.Env) cfg.Env = c.Env;
  cfg.Cmd = c.Cmd ?? null;
  cfg.Entrypoint = c.Entrypoint ?? null;
  if (c.WorkingDir) cfg.WorkingDir = c.WorkingDir;
  if (c.Labels && Object.keys(c.Labels).length) cfg.Labels = c.Labels;
  if (c.ExposedPorts) cfg.ExposedPorts = c.ExposedPorts;
  if (c.Volumes) cfg.Volumes = c.Volumes;
  if (c.StopSignal) cfg.StopSignal = c.StopSignal;
  return cfg;
}
