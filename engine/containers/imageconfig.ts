/** Merges an image's config into a container's Config the way docker does. */
import { InvalidArgumentError } from '../errors.js';
import type { ImageRecord } from '../images/index.js';
import type { ContainerConfig } from './types.js';

function envKey(e: string): string {
  const i = e.indexOf('=');
  return i < 0 ? e : e.slice(0, i);
}

export function mergeEnv(base: string[], over: string[]): string[] {
  const out = [...base];
  for (const e of over) {
    const i = out.findIndex((b) => envKey(b) === envKey(e));
    if (i >= 0) out[i] = e;
    else out.push(e);
  }
  return out;
}

export function mergeImageConfig(config: ContainerConfig, image: ImageRecord): ContainerConfig {
  const ic = image.config.config ?? {};
  const merged: ContainerConfig = { ...config };
  if (!merged.User && ic.User) merged.User = ic.User;
  merged.Env = mergeEnv(ic.Env ?? [], config.Env ?? []);
  const entrypointGiven = config.Entrypoint !== undefined && config.Entrypoint !== null;
  if (!entrypointGiven) merged.Entrypoint = ic.Entrypoint ?? null;
  else if (config.Entrypoint!.length === 1 && config.Entrypoint![0] === '') merged.Entrypoint = null;
  if (!config.Cmd?.length && !entrypointGiven) merged.Cmd = ic.Cmd ?? null;
  if (!merged.WorkingDir && ic.WorkingDir) merged.WorkingDir = ic.WorkingDir;
  if (ic.ExposedPorts) merged.ExposedPorts = { ...ic.ExposedPorts, ...(config.ExposedPorts ?? {}) };
  if (ic.Volumes) merged.Volumes = { ...ic.Volumes, ...(config.Volumes ?? {}) };
  merged.Labels = { ...(ic.Labels ?? {}), ...(config.Labels ?? {}) };
  if (!merged.StopSignal && ic.StopSignal) merged.StopSignal = ic.StopSignal;
  if (!merged.Healthcheck && ic.Healthcheck) merged.Healthcheck = ic.Healthcheck;
  return merged;
}

/** Path and args of the container's process; 400 when neither image nor client gave one. */
export function commandOf(config: ContainerConfig): { path: string; args: string[] } {
  const argv = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  if (!argv.length) throw new InvalidArgumentError('no command specified');
  return { path: argv[0], args: argv.slice(1) };
}
