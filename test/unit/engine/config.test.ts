import { parseDaemonArgs } from '../../../engine/config.js';
import { checkEngineOptions } from '../../../src/machine/provision/engine-flags.js';
import { defaultEngineOptions } from '../../../src/machine/store/host.js';

test('berthd understands the engine options Docker Machine users pass most', () => {
  const { config } = parseDaemonArgs(['--dns', '10.0.0.53', '--dns=10.0.0.54', '--mtu', '1400', '--default-ulimit', 'nofile=1024:2048', '--default-ulimit=nproc=512',
    '--log-driver', 'json-file', '--log-opt', 'max-size=10m', '--log-opt', 'max-file=3', '--storage-driver', 'overlay']);
  expect(config).toMatchObject({
    dns: ['10.0.0.53', '10.0.0.54'], mtu: 1400, storageDriver: 'overlay2', logDriver: 'json-file', logOpts: { 'max-size': '10m', 'max-file': '3' },
    defaultUlimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }, { Name: 'nproc', Soft: 512, Hard: 512 }],
  });
  expect(parseDaemonArgs([]).config).toMatchObject({ dns: [], mtu: undefined, defaultUlimits: [], logDriver: 'json-file', logOpts: {} });
});

test.each([
  [['--log-driver', 'syslog'], /--log-driver syslog: berthd supports json-file and none/],
  [['--log-opt', 'tag=x'], /--log-opt tag: berthd's json-file log supports max-size and max-file/],
  [['--mtu', '9'], /--mtu 9: a number from 68 to 65535/],
  [['--dns', 'resolver'], /--dns resolver: an IP address/],
  [['--default-ulimit', 'nofile=9:1'], /soft limit is above the hard one/],
  [['--storage-driver', 'aufs'], /--storage-driver aufs: berthd supports overlay2/],
  [['--no-such-flag'], /Unknown option '--no-such-flag'/],
  [['--fixed-cidr-v6', 'fd00:1::/64'], /--fixed-cidr-v6 fd00:1::\/64 needs --ipv6/],
])('berthd refuses %j in one line', (args, message) => {
  expect(() => parseDaemonArgs(args)).toThrow(message);
});

test('machine create checks engine options with berthd\'s parser before making anything', () => {
  const opts = (over: Partial<ReturnType<typeof defaultEngineOptions>>) => ({ ...defaultEngineOptions(), ...over });
  expect(() => checkEngineOptions(opts({ ArbitraryFlags: ['log-driver=json-file', 'log-opt=max-size=1m', 'dns=1.1.1.1', 'mtu=1450', 'default-ulimit=nofile=100:200'], StorageDriver: 'overlay' }), 'generic')).not.toThrow();
  expect(() => checkEngineOptions(opts({ ArbitraryFlags: ['log-driver=gelf'] }), 'generic')).toThrow(/^--engine-opt: berthd refuses it: --log-driver gelf: berthd supports json-file and none$/);
  expect(() => checkEngineOptions(opts({ ArbitraryFlags: ['bogus=1'] }), 'generic')).toThrow(/^--engine-opt: berthd refuses it: Unknown option '--bogus'/);
  expect(() => checkEngineOptions(opts({ StorageDriver: 'btrfs' }), 'generic')).toThrow(/^--engine-storage-driver: berthd refuses it: --storage-driver btrfs/);
});
