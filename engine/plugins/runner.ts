/**
 * Runs an enabled plugin as a container of the engine's OCI runtime, with the spec
 * dockerd's InitSpec gives it: docker's default spec (default capabilities plus
 * linux.capabilities, masked paths, no seccomp), the plugin's rootfs as root, its
 * runtime dir (exec-root/plugins/<id prefix>) at /run/docker/plugins, the
 * propagated mount rbind+rshared, the mounts and devices of its settings, the
 * host's network namespace for network type "host" (else one of its own with only
 * loopback), host pid/ipc namespaces when asked, and PATH plus the settings' env.
 * Its output goes to a json-file log next to its rootfs (berth-runtime's monitor).
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { buildSpec } from '../runtime/spec.js';
import { DEFAULT_PATH_ENV } from '../runtime/defaults.js';
import type { RuntimeClient } from '../runtime/client.js';
import { EngineError, InvalidArgumentError } from '../errors.js';
import type { PluginObject } from './index.js';
import { callPlugin } from './protocol.js';

export interface RunnerPaths {
  rootfs: string;
  propagatedMount: string;
  log: string;
  /** exec-root/plugins/<id prefix>: the socket's directory (the plugin's /run/docker/plugins). */
  runDir: string;
  bundle: string;
  monitorSocket: string;
}

export class PluginStartError extends EngineError {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function mountCmd(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('mount', args, (err, _o, stderr) => (err ? reject(new EngineError(`mount ${args.join(' ')}: ${(stderr || err.message).trim()}`)) : resolve()));
  });
}

function isMountPoint(path: string): Promise<boolean> {
  return readFile('/proc/self/mountinfo', 'utf8').then((t) => t.split('\n').some((l) => l.split(' ')[4] === path), () => false);
}

/** dockerd's MakeRShared: the propagated mount dir bound on itself, rshared, so mounts the plugin makes reach the host. */
export async function shareMount(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  if (!(await isMountPoint(dir))) await mountCmd(['--bind', dir, dir]);
  await mountCmd(['--make-rshared', dir]);
}

export async function unshareMount(dir: string): Promise<void> {
  while (await isMountPoint(dir)) {
    await new Promise<void>((resolve, reject) => execFile('umount', ['-l', dir], (err, _o, stderr) => (err ? reject(new EngineError(`umount ${dir}: ${(stderr || err.message).trim()}`)) : resolve())));
  }
}

export function pluginSpec(p: PluginObject, paths: RunnerPaths, hasMonitor: boolean): object {
  const cfg = p.Config;
  const network = cfg.Network.Type === 'host' ? { mode: 'host' as const } : { mode: 'new' as const };
  const { spec } = buildSpec({
    id: p.Id,
    config: { Hostname: p.Id.slice(0, 12) },
    hostConfig: {
      CapAdd: cfg.Linux.Capabilities,
      SecurityOpt: ['seccomp=unconfined'],
      NetworkMode: cfg.Network.Type === 'host' ? 'host' : 'none',
      Privileged: false,
    },
    rootfs: paths.rootfs,
    args: [...cfg.Entrypoint, ...p.Settings.Args],
    env: [DEFAULT_PATH_ENV, ...p.Settings.Env],
    cwd: cfg.WorkDir || '/',
    user: { uid: 0, gid: 0, additionalGids: [] },
    mounts: [],
    etcFiles: { hostname: '/etc/hostname', hosts: '/etc/hosts', resolvConf: '/etc/resolv.conf' },
    network,
    shared: { ...(cfg.PidHost ? { pid: { mode: 'host' as const } } : {}), ...(cfg.IpcHost ? { ipc: { mode: 'host' as const } } : {}) },
    cgroupsPath: `/berth/plugin-${p.Id}`,
    annotations: hasMonitor ? { 'io.berth.monitor.socket': paths.monitorSocket, 'io.berth.log.path': paths.log, 'io.berth.log.max-size': String(10 << 20), 'io.berth.log.max-file': '2' } : {},
  });
  // dockerd binds the host's /etc/hosts and resolv.conf read-only, and only with a network type.
  spec.mounts = spec.mounts.filter((m) => m.destination !== '/etc/hostname' && ((m.destination !== '/etc/hosts' && m.destination !== '/etc/resolv.conf') || cfg.Network.Type));
  for (const m of spec.mounts) if (m.destination === '/etc/hosts' || m.destination === '/etc/resolv.conf') m.options = ['rbind', 'ro'];
  delete spec.hostname;
  spec.root.readonly = false;
  if (cfg.PropagatedMount) {
    spec.mounts.push({ destination: cfg.PropagatedMount, type: 'bind', source: paths.propagatedMount, options: ['rbind', 'rw', 'rshared'] });
    (spec.linux as Record<string, unknown>).rootfsPropagation = 'rshared';
  }
  for (const m of p.Settings.Mounts) {
    if (m.Source === null || m.Source === '') throw new InvalidArgumentError(`plugin ${p.Name}: mount "${m.Name}" has no source: set it with \`docker plugin set ${p.Name} ${m.Name}.source=/path\``);
    spec.mounts.push({ destination: m.Destination, type: m.Type || 'bind', source: m.Source, options: m.Options.length ? m.Options : ['rbind'] });
  }
  spec.mounts.push({ destination: '/run/docker/plugins', type: 'bind', source: paths.runDir, options: ['rbind', 'rshared'] });
  const resources = spec.linux.resources ?? {};
  if (cfg.Linux.AllowAllDevices) resources.devices = [{ allow: true, access: 'rwm' }];
  for (const d of p.Settings.Devices) {
    if (!d.Path) continue;
    let st;
    try {
      st = statSync(d.Path);
    } catch {
      throw new InvalidArgumentError(`plugin ${p.Name}: device "${d.Name}" path ${d.Path} does not exist`);
    }
    if (!st.isCharacterDevice() && !st.isBlockDevice()) throw new InvalidArgumentError(`plugin ${p.Name}: ${d.Path} is not a device node`);
    const type = st.isCharacterDevice() ? 'c' : 'b';
    const major = Number((BigInt(st.rdev) >> 8n) & 0xfffn);
    const minor = Number((BigInt(st.rdev) & 0xffn) | ((BigInt(st.rdev) >> 12n) & ~0xffn));
    spec.linux.devices = [...(spec.linux.devices ?? []), { path: d.Path, type, major, minor, fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid }];
    resources.devices = [...(resources.devices ?? []), { allow: true, type, major, minor, access: 'rwm' }];
  }
  spec.linux.resources = resources;
  spec.process.capabilities = { ...spec.process.capabilities!, inheritable: spec.process.capabilities!.bounding };
  return spec;
}

async function logTail(path: string): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const lines = text.split('\n').filter(Boolean).slice(-5).map((l) => {
    try {
      return String((JSON.parse(l) as { log?: string }).log ?? '').trimEnd();
    } catch {
      return l;
    }
  });
  return lines.filter(Boolean).join(' | ');
}

/** Starts the plugin and waits (up to timeoutMs) until /Plugin.Activate answers on its socket. */
export async function startPlugin(runtime: RuntimeClient, p: PluginObject, paths: RunnerPaths, timeoutMs: number): Promise<string[]> {
  await stopPlugin(runtime, p.Id);
  await rm(paths.runDir, { recursive: true, force: true });
  await mkdir(paths.runDir, { recursive: true, mode: 0o700 });
  await mkdir(paths.bundle, { recursive: true, mode: 0o700 });
  if (p.Config.PropagatedMount) await shareMount(paths.propagatedMount);
  await writeFile(join(paths.bundle, 'config.json'), JSON.stringify(pluginSpec(p, paths, runtime.hasMonitor)));
  try {
    await runtime.runDetached(p.Id, paths.bundle, join(paths.bundle, 'pid'));
  } catch (err) {
    await stopPlugin(runtime, p.Id).catch(() => undefined);
    throw new PluginStartError(`plugin ${p.Name} could not start: ${(err as Error).message}`);
  }
  const socket = join(paths.runDir, p.Config.Interface.Socket);
  const deadline = Date.now() + timeoutMs;
  let last = 'its socket did not appear';
  for (;;) {
    if (existsSync(socket)) {
      try {
        const r = await callPlugin<{ Implements?: string[] }>(socket, 'Plugin.Activate', {}, { timeoutMs: Math.max(1000, deadline - Date.now()) });
        return r.Implements ?? [];
      } catch (err) {
        last = (err as Error).message;
      }
    }
    const st = await runtime.state(p.Id).catch(() => null);
    if (!st || st.status === 'stopped') {
      const tail = await logTail(paths.log);
      await stopPlugin(runtime, p.Id);
      throw new PluginStartError(`plugin ${p.Name} exited before it served ${p.Config.Interface.Socket}${tail ? `: ${tail}` : ''}`);
    }
    if (Date.now() > deadline) {
      const tail = await logTail(paths.log);
      await stopPlugin(runtime, p.Id);
      throw new PluginStartError(`plugin ${p.Name} did not answer on ${p.Config.Interface.Socket} within ${Math.round(timeoutMs / 1000)}s (${last})${tail ? `: ${tail}` : ''}`);
    }
    await sleep(50);
  }
}

/** SIGTERM, up to 10 s for the plugin to exit (as dockerd), then SIGKILL; the runtime forgets it. */
export async function stopPlugin(runtime: RuntimeClient, id: string, graceMs = 10000): Promise<void> {
  const st = await runtime.state(id).catch(() => null);
  if (!st) return;
  if (st.status === 'running' || st.status === 'paused') {
    await runtime.kill(id, 'SIGTERM').catch(() => undefined);
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline) {
      const now = await runtime.state(id).catch(() => null);
      if (!now || now.status === 'stopped') break;
      await sleep(50);
    }
  }
  await runtime.delete(id, true);
}
