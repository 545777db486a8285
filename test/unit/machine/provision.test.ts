import { defaultEngineOptions } from '../../../src/machine/store/host.js';
import { engineArgs, engineEnv } from '../../../src/machine/provision/engine-flags.js';
import { hostLayout } from '../../../src/machine/provision/layout.js';
import { parseOsRelease } from '../../../src/machine/provision/probe.js';
import { renderFormat, renderTable, parseFilters, type MachineRow } from '../../../src/machine/ls.js';

test('os-release picks the family from ID, else ID_LIKE', () => {
  expect(parseOsRelease('ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n')).toMatchObject({ id: 'debian', family: 'debian', versionId: '12' });
  expect(parseOsRelease('ID="rocky"\nID_LIKE="rhel centos fedora"\n').family).toBe('redhat');
  expect(parseOsRelease('ID=pop\nID_LIKE="ubuntu debian"\n').family).toBe('debian');
  expect(parseOsRelease('ID=alpine\n').family).toBe('alpine');
  expect(parseOsRelease('ID=amzn\n').family).toBe('redhat');
  expect(parseOsRelease('ID=weird\n').family).toBe('linux');
});

test('engine flags use dockerd names and carry the --engine-* options', () => {
  const l = hostLayout('', 'm1');
  const args = engineArgs(l, { ...defaultEngineOptions(), Labels: ['env=prod'], InsecureRegistry: ['reg:5000'], RegistryMirror: ['https://m'], StorageDriver: 'vfs', ArbitraryFlags: ['log-level=debug'] }, 'generic', 2376);
  expect(args.slice(0, 5)).toEqual(['-H', 'unix:///run/berth/berthd.sock', '-H', 'tcp://0.0.0.0:2376', '--tlsverify']);
  expect(args).toEqual(expect.arrayContaining(['--tlscacert=/etc/berth/ca.pem', '--label=provider=generic', '--label=env=prod', '--insecure-registry=reg:5000',
    '--registry-mirror=https://m', '--storage-driver=vfs', '--log-level=debug', '--data-root=/var/lib/berth', '--runtime=/opt/berth/bin/berth-runtime']));
  expect(engineEnv(l, { ...defaultEngineOptions(), Env: ['HTTP_PROXY=http://p:3128', 'bad'] })).toEqual({ BERTH_RUNTIME: '/opt/berth/bin/berth-runtime', HTTP_PROXY: 'http://p:3128' });
  expect(hostLayout('/srv/x', 'm2')).toMatchObject({ service: 'berthd-m2', certDir: '/srv/x/etc/berth', systemdUnit: '/etc/systemd/system/berthd-m2.service' });
});

const row = (over: Partial<MachineRow>): MachineRow => ({ Name: 'a', Active: '-', ActiveHost: false, DriverName: 'generic', State: 'Running', URL: 'tcp://1.2.3.4:2376', Swarm: '', DockerVersion: 'v1', Error: '', ResponseTime: 1, Labels: [], ...over });

test('ls renders aligned columns and templates; bad filters and fields are refused', () => {
  expect(renderTable([row({}), row({ Name: 'longer-name', Active: '*' })])).toBe(
    'NAME          ACTIVE   DRIVER    STATE     URL                  SWARM   DOCKER   ERRORS\n' +
    'a             -        generic   Running   tcp://1.2.3.4:2376           v1\n' +
    'longer-name   *        generic   Running   tcp://1.2.3.4:2376           v1\n');
  expect(renderFormat([row({})], '{{.Name}}\\t{{ .State }}')).toBe('a\tRunning\n');
  expect(() => renderFormat([row({})], '{{.Nope}}')).toThrow(/unknown field .Nope/);
  expect(parseFilters(['driver=generic', 'state=Running', 'name=^a', 'label=x=y'])).toMatchObject({ driver: ['generic'], state: ['running'], label: ['x=y'] });
  expect(() => parseFilters(['name=('])).toThrow(/not a valid regular expression/);
});
