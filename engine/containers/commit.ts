/** POST /commit: the container's writable layer becomes a new image layer; `changes` edit the config. */
import { InvalidArgumentError } from '../errors.js';
import type { ImageConfig } from '../images/index.js';
import { applyEnvChange } from '../images/changes.js';
import type { ContainerConfig } from './types.js';

type Cfg = NonNullable<ImageConfig['config']>;

function jsonOrShell(arg: string): string[] {
  const t = arg.trim();
  if (t.startsWith('[')) {
    try {
      const v = JSON.parse(t);
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
    } catch {
      // Not JSON: shell form below.
    }
  }
  return ['/bin/sh', '-c', t];
}

function pairs(arg: string): [string, string][] {
  const out: [string, string][] = [];
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)/g;
  let m;
  while ((m = re.exec(arg))) out.push([m[1], m[2].startsWith('"') ? JSON.parse(m[2]) : m[2]]);
  if (!out.length) {
    const [k, ...rest] = arg.trim().split(/\s+/);
    if (k && rest.length) out.push([k, rest.join(' ')]);
  }
  return out;
}

/** Applies Dockerfile-style `changes` (CMD, ENTRYPOINT, ENV, …) to an image config. */
export function applyChanges(cfg: Cfg, changes: string[]): Cfg {
  const out: Cfg = { ...cfg };
  for (const line of changes.flatMap((c) => c.split('\n')).map((c) => c.trim()).filter(Boolean)) {
    const m = /^(\w+)\s+([\s\S]*)$/.exec(line);
    if (!m) throw new InvalidArgumentError(`invalid change ${JSON.stringify(line)}: use an instruction like CMD ["sh"] or ENV A=B`);
    const [, instr, arg] = m;
    switch (instr.toUpperCase()) {
      case 'CMD': out.Cmd = jsonOrShell(arg); break;
      case 'ENTRYPOINT': out.Entrypoint = jsonOrShell(arg); break;
      case 'ENV': out.Env = applyEnvChange(out.Env ?? [], arg); break;
      case 'LABEL': out.Labels = { ...(out.Labels ?? {}), ...Object.fromEntries(pairs(arg)) }; break;
      case 'WORKDIR': out.WorkingDir = arg.trim(); break;
      case 'USER': out.User = arg.trim(); break;
      case 'STOPSIGNAL': out.StopSignal = arg.trim(); break;
      case 'EXPOSE': out.ExposedPorts = { ...(out.ExposedPorts ?? {}), ...Object.fromEntries(arg.trim().split(/\s+/).map((p) => [p.includes('/') ? p : `${p}/tcp`, {}])) }; break;
      case 'VOLUME': {
        const vols = arg.trim().startsWith('[') ? (JSON.parse(arg) as string[]) : arg.trim().split(/\s+/);
        out.Volumes = { ...(out.Volumes ?? {}), ...Object.fromEntries(vols.map((v) => [v, {}])) };
        break;
      }
      default:
        throw new InvalidArgumentError(`${instr} is not a valid change command: use CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME or WORKDIR`);
    }
  }
  return out;
}

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
