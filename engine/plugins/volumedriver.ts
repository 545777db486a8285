/**
 * The VolumeDriver protocol (docs.docker.com/engine/extend/plugins_volume) spoken to
 * an enabled plugin. Paths the plugin answers are inside its container: under its
 * PropagatedMount they map to data-root/plugins/<id>/propagated-mount on the host,
 * anything else to its rootfs (dockerd's ScopedPath).
 */
import { join, posix } from 'node:path';
import { callPlugin } from './protocol.js';
import type { DriverVolume, VolumeDriver } from './index.js';

export interface PluginPaths {
  socket: string;
  rootfs: string;
  propagatedMount: string;
  /** Config.PropagatedMount, in the plugin's view ("" if none). */
  propagatedIn: string;
}

export function scopedPath(p: PluginPaths, inPlugin: string): string {
  const path = posix.normalize(`/${inPlugin}`);
  const prop = p.propagatedIn ? posix.normalize(p.propagatedIn) : '';
  if (prop && (path === prop || path.startsWith(`${prop.replace(/\/$/, '')}/`))) return join(p.propagatedMount, path.slice(prop.length));
  return join(p.rootfs, path);
}

export class PluginVolumeDriver implements VolumeDriver {
  constructor(readonly name: string, private readonly paths: PluginPaths) {}

  private call<T>(method: string, body: unknown): Promise<T> {
    return callPlugin<T>(this.paths.socket, `VolumeDriver.${method}`, body);
  }

  async create(name: string, opts: Record<string, string>): Promise<void> {
    await this.call('Create', { Name: name, Opts: opts });
  }

  async get(name: string): Promise<DriverVolume> {
    const r = await this.call<{ Volume?: DriverVolume }>('Get', { Name: name });
    const v = r.Volume ?? { Name: name, Mountpoint: '' };
    return { ...v, Mountpoint: v.Mountpoint ? scopedPath(this.paths, v.Mountpoint) : '' };
  }

  async remove(name: string): Promise<void> {
    await this.call('Remove', { Name: name });
  }

  async mount(name: string, id: string): Promise<string> {
    const r = await this.call<{ Mountpoint?: string }>('Mount', { Name: name, ID: id });
    if (!r.Mountpoint) throw new Error(`VolumeDriver.Mount: plugin ${this.name} gave no mountpoint for volume ${name}`);
    return scopedPath(this.paths, r.Mountpoint);
  }

  async unmount(name: string, id: string): Promise<void> {
    await this.call('Unmount', { Name: name, ID: id });
  }

  async capabilities(): Promise<{ Scope: string }> {
    try {
      const r = await this.call<{ Capabilities?: { Scope?: string } }>('Capabilities', {});
      return { Scope: r.Capabilities?.Scope || 'local' };
    } catch {
      // older plugins have no Capabilities: dockerd assumes local scope
      return { Scope: 'local' };
    }
  }
}
