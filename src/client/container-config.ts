import { readFileSync } from 'node:fs';
import { UsageError, type OptionTable, type Parsed } from './argv.js';

/**
 * The options of `run` and `create`, and the POST /containers/create body they make,
 * as the docker CLI builds it (binds in HostConfig.Binds, anonymous `-v /path` in
 * Config.Volumes, -p in ExposedPorts + PortBindings, -i = OpenStdin + StdinOnce).
 */
export const CREATE_OPTIONS = {
  name: { kind: 'string', description: 'assign a name to the container', value: 'NAME' },
  env: { kind: 'list', char: 'e', description: 'set environment variables', value: 'KEY=VALUE' },
  'env-file': { kind: 'list', description: 'read a file of environment variables', value: 'FILE' },
  volume: { kind: 'list', char: 'v', description: 'bind mount a volume (SRC:DST[:ro], NAME:DST or DST)', value: 'VOLUME' },
  tmpfs: { kind: 'list', description: 'mount a tmpfs directory (DST[:OPTIONS])', value: 'DST' },
  publish: { kind: 'list', char: 'p', description: "publish a container's port(s) to the host ([IP:][HOSTPORT:]PORT[/PROTO])", value: 'PORTS' },
  'publish-all': { kind: 'bool', char: 'P', description: 'publish all exposed ports to random ports' },
  expose: { kind: 'list', description: 'expose a port or a range of ports', value: 'PORT' },
  workdir: { kind: 'string', char: 'w', description: 'working directory inside the container', value: 'DIR' },
  user: { kind: 'string', char: 'u', description: 'username or UID (format: <name|uid>[:<group|gid>])', value: 'USER' },
  network: { kind: 'string', description: 'connect a container to a network (bridge, host, none, NAME)', value: 'NETWORK' },
  entrypoint: { kind: 'string', description: 'overwrite the default ENTRYPOINT of the image', value: 'CMD' },
  hostname: { kind: 'string', char: 'h', description: 'container host name', value: 'NAME' },
  label: { kind: 'list', char: 'l', description: 'set metadata on a container', value: 'KEY=VALUE' },
  interactive: { kind: 'bool', char: 'i', description: 'keep STDIN open even if not attached' },
  tty: { kind: 'bool', char: 't', description: 'allocate a pseudo-TTY' },
  rm: { kind: 'bool', description: 'automatically remove the container when it exits' },
  init: { kind: 'bool', description: 'run an init inside the container that forwards signals and reaps processes' },
  privileged: { kind: 'bool', description: 'give extended privileges to this container' },
  'read-only': { kind: 'bool', description: "mount the container's root filesystem as read only" },
  memory: { kind: 'string', char: 'm', description: 'memory limit (e.g. 64m)', value: 'BYTES' },
  'pids-limit': { kind: 'int', description: 'tune container pids limit (-1 for unlimited)', value: 'N' },
  cpus: { kind: 'string', description: 'number of CPUs', value: 'N' },
  restart: { kind: 'string', description: 'restart policy (no, always, on-failure[:N], unless-stopped)', value: 'POLICY' },
  'cap-add': { kind: 'list', description: 'add Linux capabilities', value: 'CAP' },
  'cap-drop': { kind: 'list', description: 'drop Linux capabilities', value: 'CAP' },
  'stop-signal': { kind: 'string', description: 'signal to stop the container', value: 'SIGNAL' },
  'stop-timeout': { kind: 'int', description: 'timeout (in seconds) to stop a container', value: 'SECONDS' },
  pull: { kind: 'string', description: 'pull image before running (always, missing, never)', value: 'POLICY' },
  platform: { kind: 'string', description: 'platform if the server is multi-platform capable', value: 'OS/ARCH' },
} as const satisfies OptionTable;

export type CreateOptions = Parsed<typeof CREATE_OPTIONS>['opts'];

export interface CreateRequest {
  name?: string;
  platform?: string;
  body: Record<string, any>;
}

/** "64m" → bytes, like docker's RAMInBytes (binary units). */
export function ramInBytes(v: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i.exec(v.trim());
  if (!m) throw new UsageError(`invalid ${what} "${v}": use a size like 64m or 1g`);
  const exp = ' kmgtp'.indexOf(m[2].toLowerCase() || ' ');
  return Math.round(Number(m[1]) * 1024 ** exp);
}

function keyValues(list: string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list ?? []) {
    const eq = kv.indexOf('=');
    if (eq === 0) throw new UsageError(`invalid ${what} "${kv}": the key is empty`);
    out[eq < 0 ? kv : kv.slice(0, eq)] = eq < 0 ? '' : kv.slice(eq + 1);
  }
  return out;
}

/** -e K=V (K alone takes the client's value, like docker), then --env-file lines. */
function environment(opts: CreateOptions): string[] | undefined {
  const lines: string[] = [];
  for (const file of opts['env-file'] ?? []) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read the env file ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
    lines.push(...text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')));
  }
  lines.push(...(opts.env ?? []));
  const env: string[] = [];
  for (const l of lines) {
    if (l.startsWith('=')) throw new UsageError(`invalid environment variable "${l}": the name is empty`);
    if (l.includes('=')) env.push(l);
    else if (process.env[l] !== undefined) env.push(`${l}=${process.env[l]}`);
  }
  return env.length ? env : undefined;
}

/** [IP:][HOSTPORT:]PORT[/PROTO], ports may be ranges of equal length. */
export function parsePublish(spec: string): Array<{ key: string; binding: { HostIp: string; HostPort: string } }> {
  const slash = spec.lastIndexOf('/');
  const proto = slash > spec.lastIndexOf(']') && slash >= 0 ? spec.slice(slash + 1) : 'tcp';
  const rest = slash >= 0 && slash > spec.lastIndexOf(']') ? spec.slice(0, slash) : spec;
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new UsageError(`invalid proto "${proto}" in -p ${spec}: use tcp, udp or sctp`);
  const parts = rest.startsWith('[') ? [rest.slice(1, rest.indexOf(']')), ...rest.slice(rest.indexOf(']') + 2).split(':')] : rest.split(':');
  if (parts.length > 3 || parts.length === 0) throw new UsageError(`invalid -p ${spec}: use [IP:][HOSTPORT:]PORT[/PROTO]`);
  const container = parts[parts.length - 1];
  const host = parts.length >= 2 ? parts[parts.length - 2] : '';
  const ip = parts.length === 3 ? parts[0] : '';
  const range = (r: string, what: string): [number, number] => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(r);
    if (!m) throw new UsageError(`invalid ${what} port "${r}" in -p ${spec}`);
    const a = Number(m[1]);
    const b = m[2] ? Number(m[2]) : a;
    if (a < 1 || b > 65535 || b < a) throw new UsageError(`invalid ${what} port range "${r}" in -p ${spec}`);
    return [a, b];
  };
  const [c1, c2] = range(container, 'container');
  const hostRange = host ? range(host, 'host') : undefined;
  if (hostRange && hostRange[1] - hostRange[0] !== c2 - c1 && hostRange[0] !== hostRange[1]) throw new UsageError(`invalid -p ${spec}: host and container port ranges differ in size`);
  const out = [];
  for (let p = c1; p <= c2; p++) {
    const hp = !hostRange ? '' : hostRange[0] === hostRange[1] ? String(hostRange[0]) : String(hostRange[0] + (p - c1));
    out.push({ key: `${p}/${proto}`, binding: { HostIp: ip, HostPort: hp } });
  }
  return out;
}

function restartPolicy(v: string | undefined): { Name: string; MaximumRetryCount?: number } | undefined {
  if (!v) return undefined;
  const [name, count] = v.split(':');
  if (!['no', 'always', 'on-failure', 'unless-stopped'].includes(name)) throw new UsageError(`invalid restart policy "${v}": use no, always, on-failure[:N] or unless-stopped`);
  if (count !== undefined && (name !== 'on-failure' || !/^\d+$/.test(count))) throw new UsageError(`invalid restart policy "${v}": only on-failure takes a retry count`);
  return { Name: name, ...(count ? { MaximumRetryCount: Number(count) } : {}) };
}

export function createRequest(opts: CreateOptions, image: string, cmd: string[]): CreateRequest {
  const binds: string[] = [];
  const volumes: Record<string, object> = {};
  for (const v of opts.volume ?? []) {
    const parts = v.split(':');
    if (!parts[0]) throw new UsageError(`invalid volume specification "${v}": the source or destination is empty`);
    if (parts.length === 1) {
      if (!v.startsWith('/')) throw new UsageError(`invalid volume specification "${v}": the destination must be an absolute path`);
      volumes[v] = {};
    } else binds.push(v);
  }
  const tmpfs: Record<string, string> = {};
  for (const t of opts.tmpfs ?? []) {
    const colon = t.indexOf(':');
    tmpfs[colon < 0 ? t : t.slice(0, colon)] = colon < 0 ? '' : t.slice(colon + 1);
  }
  const exposed: Record<string, object> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const p of opts.publish ?? []) {
    for (const { key, binding } of parsePublish(p)) {
      exposed[key] = {};
      (bindings[key] ??= []).push(binding);
    }
  }
  for (const e of opts.expose ?? []) for (const { key } of parsePublish(e)) exposed[key] = {};
  const interactive = !!opts.interactive;
  const cpus = opts.cpus !== undefined ? Number(opts.cpus) : undefined;
  if (cpus !== undefined && !(cpus > 0)) throw new UsageError(`invalid --cpus "${opts.cpus}": use a positive number like 0.5`);
  if (opts.pull && !['always', 'missing', 'never'].includes(opts.pull)) throw new UsageError(`invalid --pull "${opts.pull}": use always, missing or never`);
  const body = {
    Hostname: opts.hostname ?? '',
    User: opts.user ?? '',
    AttachStdin: interactive,
    AttachStdout: true,
    AttachStderr: true,
    Tty: !!opts.tty,
    OpenStdin: interactive,
    StdinOnce: interactive,
    Env: environment(opts),
    Cmd: cmd.length ? cmd : undefined,
    Image: image,
    WorkingDir: opts.workdir ?? '',
    Entrypoint: opts.entrypoint !== undefined ? (opts.entrypoint === '' ? [''] : [opts.entrypoint]) : undefined,
    Labels: opts.label ? keyValues(opts.label, 'label') : undefined,
    ExposedPorts: Object.keys(exposed).length ? exposed : undefined,
    Volumes: Object.keys(volumes).length ? volumes : undefined,
    StopSignal: opts['stop-signal'],
    StopTimeout: opts['stop-timeout'],
    HostConfig: {
      Binds: binds.length ? binds : undefined,
      Tmpfs: Object.keys(tmpfs).length ? tmpfs : undefined,
      NetworkMode: opts.network ?? 'default',
      PortBindings: Object.keys(bindings).length ? bindings : undefined,
      PublishAllPorts: !!opts['publish-all'],
      AutoRemove: !!opts.rm,
      Init: opts.init ? true : undefined,
      Privileged: !!opts.privileged,
      ReadonlyRootfs: !!opts['read-only'],
      Memory: opts.memory ? ramInBytes(opts.memory, '--memory') : undefined,
      PidsLimit: opts['pids-limit'],
      NanoCpus: cpus ? Math.round(cpus * 1e9) : undefined,
      RestartPolicy: restartPolicy(opts.restart),
      CapAdd: opts['cap-add'],
      CapDrop: opts['cap-drop'],
    },
  };
  return { name: opts.name, platform: opts.platform, body };
}
