import { ConflictError, InvalidArgumentError } from '../../../../engine/errors.js';
import { applySettings, capabilities, initialSettings, parseConfig, privileges } from '../../../../engine/plugins/config.js';
import type { PluginObject } from '../../../../engine/plugins/index.js';
import { normalizeName } from '../../../../engine/plugins/store.js';
import { scopedPath } from '../../../../engine/plugins/volumedriver.js';

const base = {
  Description: 'd',
  Documentation: 'doc',
  interface: { types: ['docker.volumedriver/1.0'], socket: 'p.sock' },
  entrypoint: ['/bin/p'],
  network: { type: 'host' },
  mounts: [{ name: 'state', source: '/var/lib/p', destination: '/state', type: 'bind', options: ['rbind'], settable: ['source'] }],
  linux: { capabilities: ['CAP_SYS_ADMIN'], devices: [{ name: 'fuse', path: '/dev/fuse', settable: ['path'] }] },
  env: [{ name: 'DEBUG', settable: ['value'], value: '0' }, { name: 'FIXED', value: 'x' }, { name: 'UNSET' }],
  args: { name: 'args', settable: ['value'], value: ['-v'] },
};

const parse = (o: object) => parseConfig(Buffer.from(JSON.stringify(o)));

function plugin(enabled = false): PluginObject {
  const Config = parse(base);
  return { Id: 'a'.repeat(64), Name: 'p:latest', Enabled: enabled, Settings: initialSettings(Config), Config };
}

describe('plugin config.json', () => {
  test('keys match case-insensitively as Go decodes them; the API shows dockerd\'s names', () => {
    const cfg = parse(base);
    expect(cfg.Interface).toEqual({ Types: ['docker.volumedriver/1.0'], Socket: 'p.sock' });
    expect(cfg.Entrypoint).toEqual(['/bin/p']);
    expect(cfg.Linux.Capabilities).toEqual(['CAP_SYS_ADMIN']);
    expect(cfg.Mounts[0]).toMatchObject({ Name: 'state', Source: '/var/lib/p', Destination: '/state', Settable: ['source'] });
    expect(cfg.Env[2]).toMatchObject({ Name: 'UNSET', Value: null });
    expect(capabilities(cfg)).toEqual(['volumedriver']);
    expect(parse({ ...base, interface: { types: [{ prefix: 'docker', capability: 'volumedriver', version: '1.0' }], socket: 's' } }).Interface.Types).toEqual(['docker.volumedriver/1.0']);
  });

  test('what cannot work is refused, naming the field', () => {
    expect(() => parseConfig(Buffer.from('{'))).toThrow(/not valid JSON/);
    expect(() => parse({ ...base, entrypoint: [] })).toThrow(/entrypoint is empty/);
    expect(() => parse({ ...base, interface: { types: [], socket: 's' } })).toThrow(/interface.types is empty/);
    expect(() => parse({ ...base, interface: { types: ['volumedriver'], socket: 's' } })).toThrow(/PREFIX.CAPABILITY\/VERSION/);
    for (const socket of ['', '../x', '..']) expect(() => parse({ ...base, interface: { types: ['docker.volumedriver/1.0'], socket } })).toThrow(InvalidArgumentError);
    expect(() => parse({ ...base, propagatedMount: 'data' })).toThrow(/absolute/);
    expect(() => parse({ ...base, linux: { capabilities: 'CAP_SYS_ADMIN' } })).toThrow(/linux.capabilities must be a list of strings/);
  });

  test('settings start as the config; privileges as dockerd computes them', () => {
    const p = plugin();
    expect(p.Settings.Env).toEqual(['DEBUG=0', 'FIXED=x']);
    expect(p.Settings.Args).toEqual(['-v']);
    expect(privileges(p.Config)).toEqual([
      { Name: 'network', Description: 'permissions to access a network', Value: ['host'] },
      { Name: 'mount', Description: 'host path to mount', Value: ['/var/lib/p'] },
      { Name: 'device', Description: 'host device to access', Value: ['/dev/fuse'] },
      { Name: 'capabilities', Description: 'list of additional capabilities required', Value: ['CAP_SYS_ADMIN'] },
    ]);
  });

  test('set changes only what is settable, only while disabled', () => {
    const s = applySettings(plugin(), ['DEBUG=1', 'state.source=/srv/p', 'fuse=/dev/null', 'args=-a -b']);
    expect(s.Env).toEqual(['DEBUG=1', 'FIXED=x']);
    expect(s.Mounts[0].Source).toBe('/srv/p');
    expect(s.Devices[0].Path).toBe('/dev/null');
    expect(s.Args).toEqual(['-a', '-b']);
    expect(() => applySettings(plugin(), ['FIXED=y'])).toThrow('setting FIXED is not settable');
    expect(() => applySettings(plugin(), ['NOPE=1'])).toThrow('setting "NOPE" not found in the plugin configuration');
    expect(() => applySettings(plugin(), ['=1'])).toThrow('invalid format');
    expect(() => applySettings(plugin(true), ['DEBUG=1'])).toThrow(ConflictError);
  });
});

describe('plugin names and paths', () => {
  test('names get :latest and lose docker.io/library; digests are refused', () => {
    expect(normalizeName('vol')).toBe('vol:latest');
    expect(normalizeName('docker.io/library/vol:1')).toBe('vol:1');
    expect(normalizeName('localhost:5000/a/vol')).toBe('localhost:5000/a/vol:latest');
    expect(() => normalizeName(`vol@sha256:${'0'.repeat(64)}`)).toThrow(/canonical references are not permitted/);
    expect(() => normalizeName('Vol')).toThrow(InvalidArgumentError);
  });

  test('paths the plugin answers map under its propagated mount or its rootfs, never above', () => {
    const p = { socket: '/s', rootfs: '/pl/rootfs', propagatedMount: '/pl/prop', propagatedIn: '/data' };
    expect(scopedPath(p, '/data/v1')).toBe('/pl/prop/v1');
    expect(scopedPath(p, '/data')).toBe('/pl/prop');
    expect(scopedPath(p, '/database/x')).toBe('/pl/rootfs/database/x');
    expect(scopedPath(p, '/../../etc')).toBe('/pl/rootfs/etc');
    expect(scopedPath(p, '/data/../../etc')).toBe('/pl/rootfs/etc');
  });
});
