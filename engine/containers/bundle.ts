/**
 * Prepares a container's OCI bundle for the runtime: rootfs mounted from the
 * snapshot, /etc files, mounts with host paths, user, and config.json.
 */
import { traced } from '../trace.js';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { InvalidArgumentError, NotImplementedError } from '../errors.js';
import type { Engine } from '../engine.js';
import { buildSpec, type NetworkNamespace, type SpecInput } from '../runtime/spec.js';
import { resolveUser } from '../runtime/user.js';
import { DEFAULT_PATH_ENV } from '../runtime/defaults.js';
import { parseSize } from './logs.js';
import { mergeEnv } from './imageconfig.js';
import { defaultHosts, hostModeFiles, hostResolvConf, writeEtcFiles } from './etcfiles.js';
import type { ContainerPaths } from './paths.js';
import type { ContainerRecord } from './record.js';
import { mountRootfs } from './rootfs.js';
import { resolveInRoot } from './safepath.js';
import type { MountSpec } from './types.js';
import type { EndpointRequest, Networking } from '../networks/index.js';
import type { VolumeUser } from '../volumes/index.js';

export interface BundleContext {
  engine: Engine;
  paths: ContainerPaths;
  initBinary: string;
  hasMonitor: boolean;
  /** netns path of another container, for --network container:<id>. */
  containerNetns(ref: string): string;
  /** A namespace of another running container (--pid/--ipc container:<id>). */
  containerNs?(ref: string, type: 'pid' | 'ipc' | 'uts'): string;
  /** Another container's record (--link targets). */
  container?(ref: string): ContainerRecord | undefined;
}

/**
 * docker's legacy link variables: ALIAS_NAME, ALIAS_ENV_*, ALIAS_PORT[_N_PROTO[_ADDR|_PORT|_PROTO]]
 * for each "/target:/me/alias" in HostConfig.Links.
 */
export function linkEnv(rec: ContainerRecord, lookup: (ref: string) => ContainerRecord | undefined): string[] {
  const out: string[] = [];
  for (const link of (rec.hostConfig.Links as string[] | null | undefined) ?? []) {
    const [target, aliasPath] = link.split(':');
    const other = lookup(target.replace(/^\//, ''));
    if (!other) continue;
    const aliasName = (aliasPath ?? other.name).split('/').pop()!;
    const prefix = aliasName.toUpperCase().replace(/[^A-Z0-9]/g, '_');
    const nets = (other.networkSettings?.Networks ?? {}) as Record<string, { IPAddress?: string }>;
    const ip = nets.bridge?.IPAddress ?? Object.values(nets).find((n) => n?.IPAddress)?.IPAddress ?? '';
    const ports = Object.keys(other.config.ExposedPorts ?? {})
      .map((p) => { const [port, proto = 'tcp'] = p.split('/'); return { port: Number(port), proto }; })
      .sort((a, b) => a.port - b.port || a.proto.localeCompare(b.proto));
    if (ports.length) out.push(`${prefix}_PORT=${ports[0].proto}://${ip}:${ports[0].port}`);
    for (const { port, proto } of ports) {
      const p = `${prefix}_PORT_${port}_${proto.toUpperCase()}`;
      out.push(`${p}=${proto}://${ip}:${port}`, `${p}_ADDR=${ip}`, `${p}_PORT=${port}`, `${p}_PROTO=${proto}`);
    }
    out.push(`${prefix}_NAME=/${rec.name}/${aliasName}`);
    for (const e of other.config.Env ?? []) {
      const i = e.indexOf('=');
      const k = e.slice(0, i);
      if (i <= 0 || k === 'HOME' || k === 'PATH') continue;
      out.push(`${prefix}_ENV_${k}=${e.slice(i + 1)}`);
    }
  }
  return out;
}

/** HostConfig PidMode/IpcMode/UTSMode as namespaces to share (validated at create). */
function sharedNamespaces(rec: ContainerRecord, ctx: BundleContext): NonNullable<SpecInput['shared']> {
  const out: NonNullable<SpecInput['shared']> = {};
  const modes = { pid: rec.hostConfig.PidMode, ipc: rec.hostConfig.IpcMode, uts: rec.hostConfig.UTSMode } as const;
  for (const type of ['pid', 'ipc', 'uts'] as const) {
    const mode = modes[type] ?? '';
    if (mode === 'host') out[type] = { mode: 'host' };
    else if (mode.startsWith('container:') && ctx.containerNs) out[type] = { mode: 'path', path: ctx.containerNs(mode.slice('container:'.length), type) };
  }
  return out;
}

export interface PreparedBundle { bundle: string; warnings: string[]; networkAttached: boolean }

export function annotations(rec: ContainerRecord, paths: ContainerPaths): Record<string, string> {
  const a: Record<string, string> = { 'io.berth.monitor.socket': paths.monitorSocket(rec.id) };
  const log = rec.hostConfig.LogConfig ?? {};
  if (log.Type !== 'none') {
    a['io.berth.log.path'] = rec.logPath;
    if (log.Config?.['max-size']) a['io.berth.log.max-size'] = String(parseSize(log.Config['max-size']));
    if (log.Config?.['max-file']) a['io.berth.log.max-file'] = log.Config['max-file'];
  }
  if (rec.config.OpenStdin) a['io.berth.stdin'] = '1';
  if (rec.config.StdinOnce) a['io.berth.stdin-once'] = '1';
  return a;
}

async function resolveMounts(rec: ContainerRecord, ctx: BundleContext, rootfs: string): Promise<MountSpec[]> {
  const out: MountSpec[] = [];
  for (const m of rec.mounts) {
    if (m.type === 'bind') {
      // -v with a missing host path: docker creates the directory.
      if (!existsSync(m.source)) mkdirSync(m.source, { recursive: true });
      out.push(m);
    } else if (m.type === 'volume') {
      const volumes = ctx.engine.volumes as Partial<VolumeUser> | undefined;
      if (!volumes?.acquire) throw new NotImplementedError(`volume mounts (${m.source || 'anonymous'}:${m.target}) need the volumes service, which this berthd doesn't have yet: use a bind mount (-v /host/path:${m.target})`);
      const v = await volumes.acquire(!m.source && m.name ? { ...m, source: m.name, anonymous: true } : m, rec.id, rootfs);
      m.name = v.name;
      let source = v.hostPath;
      if (m.subpath) {
        // Resolved inside the volume (symlinks cannot lead out); it must exist, as in dockerd.
        source = resolveInRoot(v.hostPath, m.subpath);
        if (!existsSync(source)) throw new InvalidArgumentError(`cannot access path ${m.subpath} in volume ${v.name}: no such file or directory`);
      }
      out.push({ ...m, type: 'bind', source, options: ['rbind', 'rprivate'] });
    } else {
      out.push(m);
    }
  }
  return out;
}

function networkNamespace(rec: ContainerRecord, ctx: BundleContext): NetworkNamespace {
  const mode = rec.hostConfig.NetworkMode || 'default';
  if (mode === 'host') return { mode: 'host' };
  if (mode.startsWith('container:')) return { mode: 'path', path: ctx.containerNetns(mode.slice('container:'.length)) };
  return { mode: 'new' };
}

export async function prepareBundle(rec: ContainerRecord, ctx: BundleContext, consoleSize?: { height: number; width: number }): Promise<PreparedBundle> {
  const { engine, paths } = ctx;
  const bundle = paths.bundle(rec.id);
  const rootfs = paths.rootfs(rec.id);
  await mkdir(bundle, { recursive: true });

  let network = networkNamespace(rec, ctx);
  let hostname = rec.config.Hostname || rec.id.slice(0, 12);
  let hosts: string;
  let resolvConf: string;
  let networkAttached = false;
  const networking = engine.networking as Partial<Networking> | undefined;
  // The rootfs mount and the network sandbox are independent: set them up together.
  const mounted = traced('bundle: rootfs mount', rec.id, () => engine.snapshots.mounts(rec.snapshotKey).then((m) => mountRootfs(m, rootfs)));
  const attached = networking?.attach && network.mode !== 'path'
    ? traced('bundle: network', rec.id, () => networking.attach!({ id: rec.id, name: rec.name, hostname, domainname: rec.config.Domainname ?? '', config: rec.config, hostConfig: rec.hostConfig, networkingConfig: { EndpointsConfig: (rec.networkSettings.Networks ?? {}) as Record<string, EndpointRequest | null> } }))
    : undefined;
  const [m, a] = await Promise.allSettled([mounted, attached]);
  if (m.status === 'rejected' || a.status === 'rejected') {
    if (attached && a.status === 'fulfilled') await networking?.detach?.(rec.id).catch(() => undefined);
    throw m.status === 'rejected' ? m.reason : (a as PromiseRejectedResult).reason;
  }
  const r = a.value;
  if (r) {
    networkAttached = true;
    network = r.netnsPath ? { mode: 'path', path: r.netnsPath } : { mode: 'host' };
    rec.networkSettings = r.settings;
    hosts = r.hosts;
    resolvConf = r.resolvConf;
    if (network.mode === 'host') hostname = hostModeFiles().hostname;
  } else if (network.mode === 'host') {
    const h = hostModeFiles();
    hosts = h.hosts;
    hostname = h.hostname;
    resolvConf = hostResolvConf(rec);
  } else {
    hosts = defaultHosts(rec);
    resolvConf = hostResolvConf(rec);
  }
  try {
    await writeEtcFiles(rec, { hosts, resolvConf, hostname });

    const mounts = await resolveMounts(rec, ctx, rootfs);
    const user = resolveUser(rootfs, rec.config.User, rec.hostConfig.GroupAdd ?? []);
    const cwd = rec.config.WorkingDir || '/';
    // docker creates a missing working directory inside the rootfs.
    if (cwd !== '/') {
      const inRoot = resolveInRoot(rootfs, cwd);
      if (!existsSync(inRoot)) mkdirSync(inRoot, { recursive: true });
    }
    const links = ctx.container ? linkEnv(rec, ctx.container) : [];
    let env = mergeEnv([DEFAULT_PATH_ENV, `HOSTNAME=${hostname}`, ...links], rec.config.Env ?? []);
    if (rec.config.Tty) env = mergeEnv(env, ['TERM=xterm']);
    if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home}`);

    const { spec, warnings } = buildSpec({
      id: rec.id,
      config: { ...rec.config, Hostname: hostname },
      hostConfig: rec.hostConfig,
      rootfs,
      args: [rec.path, ...rec.args],
      env,
      cwd,
      user,
      mounts,
      etcFiles: { hostname: rec.hostnamePath, hosts: rec.hostsPath, resolvConf: rec.resolvConfPath },
      network,
      shared: sharedNamespaces(rec, ctx),
      initBinary: ctx.initBinary,
      cgroupsPath: `/berth/${rec.id}`,
      annotations: ctx.hasMonitor ? annotations(rec, paths) : {},
      consoleSize,
    });
    // The bundle lives in exec-root (volatile, rebuilt at every start): no fsync needed.
    await writeFile(`${bundle}/config.json`, JSON.stringify(spec));
    return { bundle, warnings, networkAttached };
  } catch (err) {
    // Nothing of a failed start may stay attached (the caller only detaches what it knows of).
    if (networkAttached) await networking?.detach?.(rec.id).catch(() => undefined);
    throw err;
  }
}
