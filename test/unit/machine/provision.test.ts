import { defaultEngineOptions } from '../../../src/machine/store/host.js';
import { engineArgs, engineEnv } from '../../../src/machine/provision/engine-flags.js';
import { hostLayout } from '../../../src/machine/provision/layout.js';
import { parseOsRelease } from '../../../src/machine/provision/probe.js';
import { GoDuration, naturalCompare, parseFilters, renderLs, type MachineRow } from '../../../src/machine/ls.js';

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
  expect(engineEnv(l, { ...defaultEngineOptions(), Env: ['HTTP_PROXY=http://p:3128', 'bad'] })).toEqual({ BERTH_RUNTIME: '/opt/berth/bin/berth-runtime', BERTH_PROXY: '/opt/berth/bin/berth-proxy', HTTP_PROXY: 'http://p:3128' });
  expect(hostLayout('/srv/x', 'm2')).toMatchObject({ service: 'berthd-m2', certDir: '/srv/x/etc/berth', systemdUnit: '/etc/systemd/system/berthd-m2.service' });
});

const row = (over: Partial<MachineRow>): MachineRow => ({ Name: 'a', Active: '-', ActiveHost: false, ActiveSwarm: false, DriverName: 'generic', State: 'Running', URL: 'tcp://1.2.3.4:2376',
  SwarmOptions: { IsSwarm: false }, Swarm: '', EngineOptions: null, Error: '', DockerVersion: 'v1', ResponseTime: 1, ...over });

test('ls prints as Docker Machine: tabwriter columns, Go templates, natural order, its filter messages', () => {
  // Every tab-terminated cell is padded (so a row without ERRORS ends in spaces), the last one is not.
  expect(renderLs([row({}), row({ Name: 'longer-name', Active: '*', Error: 'boom' })])).toBe(
    'NAME          ACTIVE   DRIVER    STATE     URL                  SWARM   DOCKER   ERRORS\n' +
    'a             -        generic   Running   tcp://1.2.3.4:2376           v1       \n' +
    'longer-name   *        generic   Running   tcp://1.2.3.4:2376           v1       boom\n');
  expect(renderLs([row({})], '{{.Name}}\\t{{ .State }}')).toBe('a\tRunning\n');
  expect(renderLs([row({})], 'table {{.Name}} {{.ResponseTime}} {{.Nope}}'.replace(' {{.Nope}}', ''))).toBe('NAME RESPONSE\na 1ms\n');
  expect(renderLs([row({ ResponseTime: 1500 })], '{{json .State}} {{json .ResponseTime}} {{.ResponseTime}} {{upper .DriverName}}')).toBe('1 1500000000 1.5s GENERIC\n');
  expect(() => renderLs([row({})], '{{.Nope}}')).toThrow(/can't evaluate field Nope/);
  expect(() => renderLs([], '{{nofunc .Name}}')).toThrow(/function "nofunc" not defined/);
  expect(['m10', 'M2', 'm1', 'a'].sort(naturalCompare)).toEqual(['a', 'm1', 'M2', 'm10']);
  expect(String(new GoDuration(90_500))).toBe('1m30.5s');
  expect(parseFilters(['driver=generic', 'state=Running', 'name=^a', 'label=x=y', 'swarm=master'])).toMatchObject({ driver: ['generic'], state: ['Running'], label: ['x=y'], swarm: ['master'] });
  expect(() => parseFilters(['name=('])).toThrow(/not a valid regular expression/);
  expect(() => parseFilters(['colour=red'])).toThrow("Unsupported filter key 'colour'");
  expect(() => parseFilters(['nokey'])).toThrow('Unsupported filter syntax');
});
