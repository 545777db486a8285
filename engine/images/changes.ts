/** `docker import --change`: the Dockerfile instructions it accepts, applied to a config. */
import { InvalidArgumentError } from '../errors.js';
import type { ImageConfig } from './index.js';

/** The few Dockerfile instructions `docker import --change` accepts. */
export function applyChanges(config: NonNullable<ImageConfig['config']>, changes: string[]): NonNullable<ImageConfig['config']> {
  const out = { ...config };
  for (const line of changes) {
    const m = /^\s*(\w+)\s+(.*)$/s.exec(line);
    if (!m) throw new InvalidArgumentError(`--change ${JSON.stringify(line)}: expected INSTRUCTION ARGS`);
    const [, ins, arg] = m;
    const list = (): string[] => {
      const t = arg.trim();
      if (t.startsWith('[')) {
        try {
          return JSON.parse(t) as string[];
        } catch {
          throw new InvalidArgumentError(`--change ${ins}: invalid JSON array ${t}`);
        }
      }
      return ['/bin/sh', '-c', t];
    };
    switch (ins.toUpperCase()) {
      case 'CMD': out.Cmd = list(); break;
      case 'ENTRYPOINT': out.Entrypoint = list(); break;
      case 'ENV': {
        const kv = arg.includes('=') ? arg.trim() : arg.trim().replace(/\s+/, '=');
        out.Env = [...(out.Env ?? []).filter((e) => !e.startsWith(`${kv.split('=')[0]}=`)), kv];
        break;
      }
      case 'WORKDIR': out.WorkingDir = arg.trim(); break;
      case 'USER': out.User = arg.trim(); break;
      case 'EXPOSE': out.ExposedPorts = { ...(out.ExposedPorts ?? {}), ...Object.fromEntries(arg.trim().split(/\s+/).map((p) => [p.includes('/') ? p : `${p}/tcp`, {}])) }; break;
      case 'VOLUME': out.Volumes = { ...(out.Volumes ?? {}), ...Object.fromEntries((arg.trim().startsWith('[') ? (JSON.parse(arg) as string[]) : arg.trim().split(/\s+/)).map((v) => [v, {}])) }; break;
      case 'LABEL': {
        const labels = { ...(out.Labels ?? {}) };
        for (const kv of arg.match(/(?:[^\s"]+|"[^"]*")+/g) ?? []) {
          const i = kv.indexOf('=');
          if (i > 0) labels[kv.slice(0, i)] = kv.slice(i + 1).replace(/^"|"$/g, '');
        }
        out.Labels = labels;
        break;
      }
      case 'STOPSIGNAL': out.StopSignal = arg.trim(); break;
      default: throw new InvalidArgumentError(`--change ${ins}: only CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME and WORKDIR are supported`);
    }
  }
  return out;
}
