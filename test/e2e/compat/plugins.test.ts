/**
 * Managed plugins as dockerd runs them: `docker plugin create` from a directory,
 * set/enable/ls/inspect/disable/rm, and a real volume plugin (test/fixtures/volplugin.c
 * in a busybox rootfs) serving the VolumeDriver protocol on its socket: volumes
 * created with `-d`, used by `docker run -v`, land in the plugin's propagated mount.
 * The same through dockerode.
 */
import { jest } from '@jest/globals';
import Docker from 'dockerode';
import { existsSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { api, startDaemon, type Daemon } from '../../fixtures/daemon.js';
import { buildImage, pushImage } from '../../fixtures/images.js';
import { startRegistry } from '../../fixtures/registry.js';
import { pushPlugin, volumePluginDir, volumePluginTar, VOLPLUGIN_CONFIG } from '../../fixtures/volplugin.js';
import { daemonWithBusybox, docker, ok, waitFor } from '../containers/fixture.js';

jest.setTimeout(90_000);

let d: Daemon;
let dir: string;

beforeAll(async () => {
  dir = volumePluginDir();
  d = await daemonWithBusybox();
});

afterAll(async () => {
  if (d) {
    const ids = (await ok(d, ['ps', '-aq'])).split('\n').filter(Boolean);
    if (ids.length) await docker(d, ['rm', '-f', ...ids]);
    await d.stop();
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const calls = (id: string) => readFileSync(join(d.dataRoot, 'plugins', id, 'propagated-mount', '.calls'), 'utf8');

async function fails(args: string[]): Promise<string> {
  const r = await docker(d, args);
  expect(r.code).not.toBe(0);
  return r.stderr;
}

describe('docker plugin with a real volume plugin', () => {
  test('create, set, enable; volumes on it used by docker run; refused removals; disable and rm', async () => {
    expect(await ok(d, ['plugin', 'create', 'berthtest/vol', dir])).toBe('berthtest/vol');
    expect(await ok(d, ['plugin', 'ls', '--format', '{{.Name}} {{.Enabled}}'])).toBe('berthtest/vol:latest false');
    expect(await fails(['plugin', 'create', 'berthtest/vol', dir])).toContain('plugin berthtest/vol:latest already exists');
    await ok(d, ['plugin', 'set', 'berthtest/vol', 'DEBUG=1']);
    expect(await fails(['plugin', 'set', 'berthtest/vol', 'NOPE=1'])).toContain('setting "NOPE" not found in the plugin configuration');
    const id = await ok(d, ['plugin', 'inspect', '-f', '{{.Id}}', 'berthtest/vol']);
    const info = JSON.parse(await ok(d, ['plugin', 'inspect', 'berthtest/vol']))[0];
    expect(info).toMatchObject({ Name: 'berthtest/vol:latest', Enabled: false, Settings: { Env: ['DEBUG=1'] } });
    expect(info.Config).toMatchObject({ Interface: { Types: ['docker.volumedriver/1.0'], Socket: 'vol.sock' }, PropagatedMount: '/data', Network: { Type: 'host' }, Linux: { Capabilities: ['CAP_SYS_ADMIN'] } });

    await ok(d, ['plugin', 'enable', 'berthtest/vol']);
    // It runs as a container: its own mount namespace, the host's network (type host),
    // CAP_SYS_ADMIN from linux.capabilities, the settings' env.
    const pid = Number(readFileSync(join(d.execRoot, 'plugins', 'bundles', id, 'pid'), 'utf8'));
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]).toBe('/bin/volplugin');
    expect(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')).toContain('DEBUG=1');
    const capEff = BigInt(`0x${/CapEff:\s*([0-9a-f]+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]}`);
    expect(capEff & (1n << 21n)).toBe(1n << 21n);
    expect(readlinkSync(`/proc/${pid}/ns/net`)).toBe(readlinkSync('/proc/self/ns/net'));
    expect(readlinkSync(`/proc/${pid}/ns/mnt`)).not.toBe(readlinkSync('/proc/self/ns/mnt'));
    // Its root propagation is shared (for the propagated mount), but its own mounts (proc, dev, ...) stay in it.
    const hostMounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]);
    expect(hostMounts.filter((m) => m?.startsWith(join(d.dataRoot, 'plugins', id, 'rootfs')))).toEqual([]);
    expect(await ok(d, ['plugin', 'ls', '--format', '{{.Name}} {{.Enabled}}'])).toBe('berthtest/vol:latest true');
    expect(await fails(['plugin', 'set', 'berthtest/vol', 'DEBUG=0'])).toContain('cannot set on an active plugin');
    expect(await ok(d, ['plugin', 'ls', '--filter', 'capability=volumedriver', '-q'])).toBe(id.slice(0, 12));
    expect(await ok(d, ['info', '--format', '{{json .Plugins.Volume}}'])).toBe('["local","berthtest/vol:latest"]');

    // The plugin made the directory, inside its container, under its propagated mount.
    expect(await ok(d, ['volume', 'create', '-d', 'berthtest/vol', 'pvol'])).toBe('pvol');
    const host = join(d.dataRoot, 'plugins', id, 'propagated-mount', 'pvol');
    expect(existsSync(host)).toBe(true);
    const vol = JSON.parse(await ok(d, ['volume', 'inspect', 'pvol']))[0];
    expect(vol).toMatchObject({ Name: 'pvol', Driver: 'berthtest/vol:latest', Mountpoint: host });
    expect(await ok(d, ['volume', 'ls', '--filter', 'driver=berthtest/vol:latest', '-q'])).toBe('pvol');

    const cid = await ok(d, ['run', '-d', '-v', 'pvol:/data', 'busybox', 'sh', '-c', 'echo from-container > /data/f']);
    expect(await ok(d, ['wait', cid])).toBe('0');
    expect(readFileSync(join(host, 'f'), 'utf8')).toBe('from-container\n');
    const mount = JSON.parse(await ok(d, ['inspect', '-f', '{{json .Mounts}}', cid]))[0];
    expect(mount).toMatchObject({ Type: 'volume', Name: 'pvol', Driver: 'berthtest/vol:latest', Source: host });
    expect(calls(id)).toContain(`Mount pvol ${cid}`);
    await ok(d, ['rm', cid]);
    expect(calls(id)).toContain(`Unmount pvol ${cid}`);

    // --volume-driver and --mount volume-driver= create missing volumes on the plugin
    await ok(d, ['run', '--name', 'mv', '--volume-driver', 'berthtest/vol', '-v', 'vd:/v', '--mount', 'type=volume,src=mvol,dst=/m,volume-driver=berthtest/vol', 'busybox', 'touch', '/m/x', '/v/y']);
    expect(existsSync(join(d.dataRoot, 'plugins', id, 'propagated-mount', 'mvol', 'x'))).toBe(true);
    expect(existsSync(join(d.dataRoot, 'plugins', id, 'propagated-mount', 'vd', 'y'))).toBe(true);
    expect(await ok(d, ['volume', 'ls', '--filter', 'driver=berthtest/vol:latest', '--format', '{{.Name}}'])).toBe('mvol\npvol\nvd'.split('\n').sort().join('\n'));
    await ok(d, ['rm', 'mv']);
    await ok(d, ['volume', 'rm', 'mvol', 'vd']);

    // A filesystem the plugin mounts in its namespace reaches the host through the propagated mount.
    await ok(d, ['volume', 'create', '-d', 'berthtest/vol', '-o', 'type=tmpfs', 'tvol']);
    const tvol = join(d.dataRoot, 'plugins', id, 'propagated-mount', 'tvol');
    const mountedAt = (path: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === path && l.includes(' - tmpfs '));
    expect(mountedAt(tvol)).toBe(true);
    await ok(d, ['run', '--name', 'tv', '-v', 'tvol:/t', 'busybox', 'sh', '-c', 'echo in-tmpfs > /t/f']);
    expect(readFileSync(join(tvol, 'f'), 'utf8')).toBe('in-tmpfs\n');
    await ok(d, ['rm', 'tv']);
    await ok(d, ['volume', 'rm', 'tvol']);
    expect(mountedAt(tvol)).toBe(false);

    expect(await fails(['plugin', 'disable', 'berthtest/vol'])).toContain('plugin berthtest/vol:latest is in use');
    expect(await fails(['plugin', 'rm', 'berthtest/vol'])).toContain('plugin berthtest/vol:latest is in use');
    await ok(d, ['volume', 'rm', 'pvol']);
    expect(existsSync(host)).toBe(false);
    expect(calls(id)).toContain('Remove pvol');
    expect(await fails(['plugin', 'rm', 'berthtest/vol'])).toContain('plugin berthtest/vol:latest is enabled');

    await ok(d, ['plugin', 'disable', 'berthtest/vol']);
    expect(await fails(['volume', 'create', '-d', 'berthtest/vol', 'pvol2'])).toContain('found but disabled');
    await ok(d, ['plugin', 'rm', 'berthtest/vol']);
    expect(await ok(d, ['plugin', 'ls', '-q'])).toBe('');
    expect(existsSync(join(d.dataRoot, 'plugins', id))).toBe(false);
    expect(await fails(['plugin', 'inspect', 'berthtest/vol'])).toContain('plugin "berthtest/vol" not found');
  });

  test('a bad plugin tar is one clear error and installs nothing', async () => {
    const noConfig = await api(d, 'POST', '/plugins/create?name=bad', await (await import('../../fixtures/images.js')).layerTar([{ name: 'rootfs/' }, { name: 'rootfs/x', content: 'x' }]));
    expect(noConfig.status).toBe(400);
    expect((noConfig.json as { message: string }).message).toContain('config not found');
    const noEntrypoint = volumePluginDir({ ...VOLPLUGIN_CONFIG, entrypoint: [] });
    try {
      const r = await api(d, 'POST', '/plugins/create?name=bad', volumePluginTar(noEntrypoint));
      expect(r.status).toBe(400);
      expect((r.json as { message: string }).message).toContain('entrypoint is empty');
    } finally {
      rmSync(noEntrypoint, { recursive: true, force: true });
    }
    expect((await api(d, 'GET', '/plugins')).json).toEqual([]);
  });

  test('a plugin whose entrypoint cannot run fails to enable, says why, and stays disabled', async () => {
    const broken = volumePluginDir({ ...VOLPLUGIN_CONFIG, entrypoint: ['/bin/not-there'] });
    try {
      await ok(d, ['plugin', 'create', 'berthtest/broken', broken]);
      const err = await fails(['plugin', 'enable', 'berthtest/broken']);
      expect(err).toMatch(/plugin berthtest\/broken:latest (could not start|exited before it served vol.sock)/);
      expect(err).toContain('not-there');
      expect(await ok(d, ['plugin', 'ls', '--format', '{{.Enabled}}'])).toBe('false');
      await ok(d, ['plugin', 'rm', 'berthtest/broken']);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });
});

describe('plugins through dockerode', () => {
  test('privileges, set, enable, a volume and a container using it, disable, remove', async () => {
    const client = new Docker({ socketPath: d.socket });
    expect((await api(d, 'POST', '/plugins/create?name=berthtest/dvol:v1', volumePluginTar(dir))).status).toBe(204);
    const plugin = client.getPlugin('berthtest/dvol:v1', 'berthtest/dvol:v1');
    expect(await plugin.privileges()).toEqual([
      { Name: 'network', Description: 'permissions to access a network', Value: ['host'] },
      { Name: 'capabilities', Description: 'list of additional capabilities required', Value: ['CAP_SYS_ADMIN'] },
    ]);
    await plugin.configure({ _body: ['DEBUG=2'] } as never);
    await plugin.enable({ timeout: 20 } as never);
    const info = await plugin.inspect() as { Id: string; Enabled: boolean; Settings: { Env: string[] } };
    expect(info.Enabled).toBe(true);
    expect(info.Settings.Env).toEqual(['DEBUG=2']);
    expect((await client.listPlugins({ filters: { enabled: ['true'] } } as never)).map((p: { Name: string }) => p.Name)).toEqual(['berthtest/dvol:v1']);

    await client.createVolume({ Name: 'dvol', Driver: 'berthtest/dvol:v1' });
    const vol = await client.getVolume('dvol').inspect();
    expect(vol.Driver).toBe('berthtest/dvol:v1');
    expect(vol.Mountpoint).toBe(join(d.dataRoot, 'plugins', info.Id, 'propagated-mount', 'dvol'));
    const c = await client.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo via-dockerode > /v/g'], HostConfig: { Binds: ['dvol:/v'] } });
    await c.start();
    expect((await c.wait()).StatusCode).toBe(0);
    expect(readFileSync(join(vol.Mountpoint, 'g'), 'utf8')).toBe('via-dockerode\n');
    await c.remove();
    await client.getVolume('dvol').remove();
    await expect(plugin.remove()).rejects.toThrow(/is enabled/);
    await plugin.remove({ force: true } as never);
    expect(await client.listPlugins()).toEqual([]);
    expect(existsSync(join(d.dataRoot, 'plugins', info.Id))).toBe(false);

  });
});

describe('plugins from a registry', () => {
  test('docker plugin install, push and upgrade: privileges from the registry, the rootfs pulled, enabled; images and wrong grants refused', async () => {
    const registry = await startRegistry();
    try {
      const { manifestDigest } = await pushPlugin(registry.url, 'berthtest/regvol', 'v2', dir);
      await pushImage(registry.url, 'berthtest/image', 'latest', await buildImage());
      const ref = `${registry.host}/berthtest/regvol:v2`;
      const priv = await api(d, 'GET', `/plugins/privileges?remote=${encodeURIComponent(ref)}`);
      expect(priv.status).toBe(200);
      expect((priv.json as { Name: string }[]).map((p) => p.Name)).toEqual(['network', 'capabilities']);
      const bad = await api(d, 'POST', `/plugins/pull?remote=${encodeURIComponent(ref)}&name=nope`, []);
      expect(bad.status).toBe(400);
      expect((bad.json as { message: string }).message).toContain('incorrect privileges');
      expect(await fails(['plugin', 'install', '--grant-all-permissions', `${registry.host}/berthtest/image`])).toContain('is not a plugin');
      expect(await fails(['plugin', 'install', '--grant-all-permissions', `${registry.host}/berthtest/missing`])).toMatch(/not found/);

      const out = await ok(d, ['plugin', 'install', '--grant-all-permissions', '--alias', 'regvol', ref]);
      expect(out).toContain(`Digest: ${manifestDigest}`);
      expect(out).toContain('Installed plugin');
      expect(await ok(d, ['plugin', 'ls', '--format', '{{.Name}} {{.Enabled}}'])).toBe('regvol:latest true');
      expect(await ok(d, ['plugin', 'inspect', '-f', '{{.PluginReference}}', 'regvol'])).toBe(ref);
      const id = await ok(d, ['plugin', 'inspect', '-f', '{{.Id}}', 'regvol']);
      await ok(d, ['volume', 'create', '-d', 'regvol', 'rgv']);
      await ok(d, ['run', '--name', 'rgv-user', '-v', 'rgv:/d', 'busybox', 'sh', '-c', 'echo pulled > /d/z']);
      expect(readFileSync(join(d.dataRoot, 'plugins', id, 'propagated-mount', 'rgv', 'z'), 'utf8')).toBe('pulled\n');
      await ok(d, ['rm', 'rgv-user']);
      await ok(d, ['volume', 'rm', 'rgv']);
      await ok(d, ['plugin', 'rm', '-f', 'regvol']);

      // docker plugin push, then install what was pushed
      const pushed = `${registry.host}/berthtest/pushed:v1`;
      await ok(d, ['plugin', 'create', pushed, dir]);
      const push = await ok(d, ['plugin', 'push', pushed]);
      expect(push).toMatch(/v1: digest: sha256:[0-9a-f]{64}/);
      await ok(d, ['plugin', 'rm', pushed]);
      await ok(d, ['plugin', 'install', '--grant-all-permissions', pushed]);
      expect(await ok(d, ['plugin', 'ls', '--format', '{{.Name}} {{.Enabled}}'])).toBe(`${pushed} true`);

      // docker plugin upgrade: refused while enabled; then the new config and rootfs, same id and volumes
      const v2dir = volumePluginDir({ ...VOLPLUGIN_CONFIG, description: 'version 2' });
      try {
        await pushPlugin(registry.url, 'berthtest/pushed', 'v2', v2dir);
      } finally {
        rmSync(v2dir, { recursive: true, force: true });
      }
      const pid = await ok(d, ['plugin', 'inspect', '-f', '{{.Id}}', pushed]);
      await ok(d, ['volume', 'create', '-d', pushed, 'upv']);
      expect(await fails(['plugin', 'upgrade', '--grant-all-permissions', pushed, `${registry.host}/berthtest/pushed:v2`])).toContain('plugin must be disabled before upgrading');
      await ok(d, ['plugin', 'disable', '-f', pushed]);
      await ok(d, ['plugin', 'upgrade', '--grant-all-permissions', '--skip-remote-check', pushed, `${registry.host}/berthtest/pushed:v2`]);
      const up = JSON.parse(await ok(d, ['plugin', 'inspect', pushed]))[0];
      expect(up).toMatchObject({ Id: pid, Enabled: false, PluginReference: `${registry.host}/berthtest/pushed:v2`, Config: { Description: 'version 2' } });
      await ok(d, ['plugin', 'enable', pushed]);
      await ok(d, ['run', '--name', 'upv-user', '-v', 'upv:/d', 'busybox', 'touch', '/d/after-upgrade']);
      await ok(d, ['rm', 'upv-user']);
      expect(existsSync(join(d.dataRoot, 'plugins', pid, 'propagated-mount', 'upv', 'after-upgrade'))).toBe(true);
      await ok(d, ['volume', 'rm', 'upv']);
      await ok(d, ['plugin', 'rm', '-f', pushed]);
    } finally {
      await registry.stop();
    }
  });
});

describe('an enabled plugin across a berthd restart', () => {
  test('it stops with berthd and runs again when berthd starts; its volumes keep working', async () => {
    const first = await daemonWithBusybox({ keep: true });
    let second: Daemon | undefined;
    try {
      await ok(first, ['plugin', 'create', 'berthtest/rvol', dir]);
      await ok(first, ['plugin', 'enable', 'berthtest/rvol']);
      await ok(first, ['volume', 'create', '-d', 'berthtest/rvol', 'rvol']);
      const id = await ok(first, ['plugin', 'inspect', '-f', '{{.Id}}', 'berthtest/rvol']);
      const pidFile = join(first.execRoot, 'plugins', 'bundles', id, 'pid');
      const oldPid = Number(readFileSync(pidFile, 'utf8'));
      await first.stop();
      expect(existsSync(`/proc/${oldPid}`)).toBe(false);

      second = await startDaemon({ dataRoot: first.dataRoot, execRoot: first.execRoot });
      expect(await ok(second, ['plugin', 'ls', '--format', '{{.Name}} {{.Enabled}}'])).toBe('berthtest/rvol:latest true');
      // The first call waits for the plugin to be up again.
      await ok(second, ['run', '--name', 'rvol-user', '-v', 'rvol:/data', 'busybox', 'sh', '-c', 'echo again > /data/h']);
      await ok(second, ['rm', 'rvol-user']);
      expect(readFileSync(join(second.dataRoot, 'plugins', id, 'propagated-mount', 'rvol', 'h'), 'utf8')).toBe('again\n');
      // A plugin that dies is started again, as dockerd does.
      const pid = Number(readFileSync(pidFile, 'utf8'));
      process.kill(pid, 'SIGKILL');
      const newPid = await waitFor('the plugin to run again', async () => {
        const now = Number(readFileSync(pidFile, 'utf8'));
        return now !== pid && existsSync(`/proc/${now}`) ? now : undefined;
      }, 20_000);
      expect(readFileSync(`/proc/${newPid}/cmdline`, 'utf8').split('\0')[0]).toBe('/bin/volplugin');
      await ok(second, ['volume', 'create', '-d', 'berthtest/rvol', 'rvol2']);
      await ok(second, ['volume', 'rm', 'rvol', 'rvol2']);
      await ok(second, ['plugin', 'rm', '-f', 'berthtest/rvol']);
    } finally {
      await second?.stop();
      if (second) rmSync(dirname(first.dataRoot), { recursive: true, force: true });
      else await first.stop();
    }
  });
});
