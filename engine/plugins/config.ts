/**
 * A v2 plugin's config.json: read as Go's decoder reads it (keys match fields
 * case-insensitively, so "entrypoint" and "Entrypoint" alike), checked, and shown
 * with dockerd's field names. Also the settings `docker plugin set` changes and
 * the privileges `docker plugin install` asks the user to grant.
 */
import { ConflictError, InvalidArgumentError } from '../errors.js';
import type { PluginConfig, PluginDevice, PluginEnv, PluginMount, PluginObject, PluginPrivilege, PluginSettings } from './index.js';

type Json = Record<string, unknown>;

/** obj[key] matched case-insensitively, exact key first. */
function field(obj: unknown, key: string): unknown {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const o = obj as Json;
  if (key in o) return o[key];
  const k = Object.keys(o).find((x) => x.toLowerCase() === key.toLowerCase());
  return k === undefined ? undefined : o[k];
}

function str(obj: unknown, key: string, what: string): string {
  const v = field(obj, key);
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new InvalidArgumentError(`plugin config: ${what} must be a string`);
  return v;
}

function strs(obj: unknown, key: string, what: string): string[] {
  const v = field(obj, key);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new InvalidArgumentError(`plugin config: ${what} must be a list of strings`);
  return v as string[];
}

function bool(obj: unknown, key: string): boolean {
  return field(obj, key) === true;
}

function list(obj: unknown, key: string, what: string): unknown[] {
  const v = field(obj, key);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new InvalidArgumentError(`plugin config: ${what} must be a list`);
  return v;
}

function optStr(obj: unknown, key: string, what: string): string | null {
  const v = field(obj, key);
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new InvalidArgumentError(`plugin config: ${what} must be a string`);
  return v;
}

const TYPE_RE = /^[a-z0-9]+\.[a-z0-9]+\/[0-9][0-9.]*$/;

/** Parses and checks config.json; errors name the field and what it must be. */
export function parseConfig(bytes: Buffer): PluginConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new InvalidArgumentError(`failed to parse config: config.json is not valid JSON (${(err as Error).message})`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new InvalidArgumentError('failed to parse config: config.json must hold a JSON object');
  const iface = field(raw, 'Interface');
  const linux = field(raw, 'Linux');
  const args = field(raw, 'Args');
  const user = field(raw, 'User');
  const cfg: PluginConfig = {
    Description: str(raw, 'Description', 'description'),
    Documentation: str(raw, 'Documentation', 'documentation'),
    Interface: {
      Types: list(iface, 'Types', 'interface.types').map((t) => {
        // config.json may spell a type as "docker.volumedriver/1.0" or {prefix, capability, version}
        if (typeof t === 'string') return t;
        return `${str(t, 'Prefix', 'interface.types[].prefix')}.${str(t, 'Capability', 'interface.types[].capability')}/${str(t, 'Version', 'interface.types[].version')}`;
      }),
      Socket: str(iface, 'Socket', 'interface.socket'),
      ...(field(iface, 'ProtocolScheme') ? { ProtocolScheme: str(iface, 'ProtocolScheme', 'interface.protocolscheme') } : {}),
    },
    Entrypoint: strs(raw, 'Entrypoint', 'entrypoint'),
    WorkDir: str(raw, 'WorkDir', 'workdir'),
    ...(user ? { User: { UID: Number(field(user, 'UID') ?? 0), GID: Number(field(user, 'GID') ?? 0) } } : {}),
    Network: { Type: str(field(raw, 'Network'), 'Type', 'network.type') },
    Linux: {
      Capabilities: strs(linux, 'Capabilities', 'linux.capabilities'),
      AllowAllDevices: bool(linux, 'AllowAllDevices'),
      Devices: list(linux, 'Devices', 'linux.devices').map((d): PluginDevice => ({
        Name: str(d, 'Name', 'linux.devices[].name'),
        Description: str(d, 'Description', 'linux.devices[].description'),
        Settable: strs(d, 'Settable', 'linux.devices[].settable'),
        Path: optStr(d, 'Path', 'linux.devices[].path'),
      })),
    },
    PropagatedMount: str(raw, 'PropagatedMount', 'propagatedmount'),
    IpcHost: bool(raw, 'IpcHost'),
    PidHost: bool(raw, 'PidHost'),
    Mounts: list(raw, 'Mounts', 'mounts').map((m): PluginMount => ({
      Name: str(m, 'Name', 'mounts[].name'),
      Description: str(m, 'Description', 'mounts[].description'),
      Settable: strs(m, 'Settable', 'mounts[].settable'),
      Source: optStr(m, 'Source', 'mounts[].source'),
      Destination: str(m, 'Destination', 'mounts[].destination'),
      Type: str(m, 'Type', 'mounts[].type'),
      Options: strs(m, 'Options', 'mounts[].options'),
    })),
    Env: list(raw, 'Env', 'env').map((e): PluginEnv => ({
      Name: str(e, 'Name', 'env[].name'),
      Description: str(e, 'Description', 'env[].description'),
      Settable: strs(e, 'Settable', 'env[].settable'),
      Value: optStr(e, 'Value', 'env[].value'),
    })),
    Args: {
      Name: str(args, 'Name', 'args.name'),
      Description: str(args, 'Description', 'args.description'),
      Settable: strs(args, 'Settable', 'args.settable'),
      Value: strs(args, 'Value', 'args.value'),
    },
  };
  if (!cfg.Interface.Types.length) throw new InvalidArgumentError('plugin config: interface.types is empty: name what the plugin implements, e.g. ["docker.volumedriver/1.0"]');
  for (const t of cfg.Interface.Types) {
    if (!TYPE_RE.test(t)) throw new InvalidArgumentError(`plugin config: interface type "${t}" is not PREFIX.CAPABILITY/VERSION (e.g. docker.volumedriver/1.0)`);
  }
  if (!cfg.Interface.Socket || cfg.Interface.Socket.includes('/') || cfg.Interface.Socket === '.' || cfg.Interface.Socket === '..') throw new InvalidArgumentError('plugin config: interface.socket must name the socket file the plugin creates in /run/docker/plugins (e.g. "vol.sock")');
  if (!cfg.Entrypoint.length) throw new InvalidArgumentError('plugin config: entrypoint is empty: give the command that starts the plugin');
  if (cfg.PropagatedMount && !cfg.PropagatedMount.startsWith('/')) throw new InvalidArgumentError(`plugin config: propagatedmount "${cfg.PropagatedMount}" must be an absolute path`);
  for (const m of cfg.Mounts) if (!m.Destination.startsWith('/')) throw new InvalidArgumentError(`plugin config: mount "${m.Name}" needs an absolute destination`);
  return cfg;
}

/** The capabilities a plugin implements ("volumedriver"), from its interface types. */
export function capabilities(cfg: PluginConfig): string[] {
  return cfg.Interface.Types.map((t) => t.slice(t.indexOf('.') + 1, t.indexOf('/')));
}

/** dockerd's InitEmptySettings: settings start as the config's values. */
export function initialSettings(cfg: PluginConfig): PluginSettings {
  return {
    Mounts: cfg.Mounts.map((m) => ({ ...m, Options: [...m.Options], Settable: [...m.Settable] })),
    Env: cfg.Env.filter((e) => e.Value !== null).map((e) => `${e.Name}=${e.Value}`),
    Args: [...cfg.Args.Value],
    Devices: cfg.Linux.Devices.map((d) => ({ ...d, Settable: [...d.Settable] })),
  };
}

/** dockerd's computePrivileges. */
export function privileges(cfg: PluginConfig): PluginPrivilege[] {
  const out: PluginPrivilege[] = [];
  const net = cfg.Network.Type;
  if (net && net !== 'null' && net !== 'bridge') out.push({ Name: 'network', Description: 'permissions to access a network', Value: [net] });
  if (cfg.IpcHost) out.push({ Name: 'host ipc namespace', Description: 'allow access to host ipc namespace', Value: ['true'] });
  if (cfg.PidHost) out.push({ Name: 'host pid namespace', Description: 'allow access to host pid namespace', Value: ['true'] });
  for (const m of cfg.Mounts) if (m.Source !== null) out.push({ Name: 'mount', Description: 'host path to mount', Value: [m.Source] });
  for (const d of cfg.Linux.Devices) if (d.Path !== null) out.push({ Name: 'device', Description: 'host device to access', Value: [d.Path] });
  if (cfg.Linux.AllowAllDevices) out.push({ Name: 'allow-all-devices', Description: "allow 'rwm' access to all devices", Value: ['true'] });
  if (cfg.Linux.Capabilities.length) out.push({ Name: 'capabilities', Description: 'list of additional capabilities required', Value: cfg.Linux.Capabilities });
  return out;
}

/**
 * `docker plugin set NAME KEY[.FIELD]=VALUE...` as dockerd applies it: env values,
 * mount sources, device paths and the args; only what the config marks settable,
 * and only while the plugin is disabled.
 */
export function applySettings(p: PluginObject, args: string[]): PluginSettings {
  if (p.Enabled) throw new ConflictError('cannot set on an active plugin, disable plugin before setting');
  const s: PluginSettings = JSON.parse(JSON.stringify(p.Settings)) as PluginSettings;
  for (const arg of args) {
    if (typeof arg !== 'string') throw new InvalidArgumentError('plugin set: the body must be a JSON list of "KEY=VALUE" strings');
    const eq = arg.indexOf('=');
    if (eq === 0) throw new InvalidArgumentError('invalid format, must be <name>[.<field>][=<value>]');
    let name = eq < 0 ? arg : arg.slice(0, eq);
    const value = eq < 0 ? '' : arg.slice(eq + 1);
    let fieldName = '';
    const dot = name.lastIndexOf('.');
    if (dot > 0) {
      fieldName = name.slice(dot + 1);
      name = name.slice(0, dot);
    }
    const settable = (allowed: string[], declared: string[]): boolean => {
      let f = fieldName;
      if (!f) {
        if (declared.length === 1) f = declared[0];
        else if (declared.length > 1) throw new InvalidArgumentError('multiple fields are settable, one must be specified');
      }
      return allowed.includes(f) && declared.includes(f);
    };
    const pretty = fieldName ? `${name}.${fieldName}` : name;
    const env = p.Config.Env.find((e) => e.Name === name);
    if (env) {
      if (!settable(['value'], env.Settable)) throw new InvalidArgumentError(`setting ${pretty} is not settable`);
      const i = s.Env.findIndex((e) => e.split('=')[0] === name);
      if (i >= 0) s.Env[i] = `${name}=${value}`;
      else s.Env.push(`${name}=${value}`);
      continue;
    }
    const mount = s.Mounts.find((m) => m.Name === name);
    if (mount) {
      if (!settable(['source'], mount.Settable)) throw new InvalidArgumentError(`setting ${pretty} is not settable`);
      mount.Source = value;
      continue;
    }
    const dev = s.Devices.find((d) => d.Name === name);
    if (dev) {
      if (!settable(['path'], dev.Settable)) throw new InvalidArgumentError(`setting ${pretty} is not settable`);
      dev.Path = value;
      continue;
    }
    if (p.Config.Args.Name === name) {
      if (!settable(['value'], p.Config.Args.Settable)) throw new InvalidArgumentError(`setting ${pretty} is not settable`);
      s.Args = value.split(/\s+/).filter(Boolean);
      continue;
    }
    throw new InvalidArgumentError(`setting ${JSON.stringify(name)} not found in the plugin configuration`);
  }
  return s;
}
