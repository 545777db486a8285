import { parseArgv, UsageError } from '../../../src/client/argv.js';
import { CREATE_OPTIONS, createRequest, parsePublish, ramInBytes } from '../../../src/client/container-config.js';

const RUN = { ...CREATE_OPTIONS, detach: { kind: 'bool', char: 'd', description: '' } } as const;

test('options stop at the image for run: the command keeps its own flags', () => {
  const { opts, args } = parseArgv(['-it', '--rm', '-e', 'A=1', '-eB=2', '--name=x', 'busybox', 'sh', '-c', 'ls -l', '-e'], RUN, true);
  expect(opts).toEqual({ interactive: true, tty: true, rm: true, env: ['A=1', 'B=2'], name: 'x' });
  expect(args).toEqual(['busybox', 'sh', '-c', 'ls -l', '-e']);
});

test('interspersed options for other commands, -- ends them, booleans take =false', () => {
  const table = { force: { kind: 'bool', char: 'f', description: '' }, time: { kind: 'int', char: 't', description: '' } } as const;
  expect(parseArgv(['a', '-f', 'b', '-t', '3', '--', '-c'], table, false)).toEqual({ opts: { force: true, time: 3 }, args: ['a', 'b', '-c'] });
  expect(parseArgv(['--force=false', '-t5'], table, false).opts).toEqual({ force: false, time: 5 });
});

test('bad options are usage errors naming the flag', () => {
  const table = { time: { kind: 'int', char: 't', description: '' } } as const;
  expect(() => parseArgv(['--nope'], table, false)).toThrow(new UsageError('unknown flag: --nope'));
  expect(() => parseArgv(['-x'], table, false)).toThrow(/unknown shorthand flag: 'x'/);
  expect(() => parseArgv(['-t'], table, false)).toThrow('flag needs an argument: -t');
  expect(() => parseArgv(['-t', 'soon'], table, false)).toThrow(/invalid argument "soon" for "-t"/);
});

test('-p specs become exposed ports and bindings', () => {
  expect(parsePublish('8080:80')).toEqual([{ key: '80/tcp', binding: { HostIp: '', HostPort: '8080' } }]);
  expect(parsePublish('127.0.0.1::53/udp')).toEqual([{ key: '53/udp', binding: { HostIp: '127.0.0.1', HostPort: '' } }]);
  expect(parsePublish('[::1]:9000-9001:90-91')).toEqual([
    { key: '90/tcp', binding: { HostIp: '::1', HostPort: '9000' } },
    { key: '91/tcp', binding: { HostIp: '::1', HostPort: '9001' } },
  ]);
  expect(() => parsePublish('80/icmp')).toThrow(/invalid proto "icmp"/);
  expect(() => parsePublish('0:99999')).toThrow(/invalid container port range/);
});

test('the create body follows the docker CLI', () => {
  const { opts, args } = parseArgv(['-i', '-v', '/h:/c:ro', '-v', '/anon', '-p', '80', '-m', '64m', '--restart', 'on-failure:3', '--entrypoint', '', 'img', 'x'], RUN, true);
  const req = createRequest(opts, args[0], args.slice(1));
  expect(req.body).toMatchObject({
    Image: 'img', Cmd: ['x'], Entrypoint: [''], OpenStdin: true, StdinOnce: true, AttachStdin: true,
    Volumes: { '/anon': {} }, ExposedPorts: { '80/tcp': {} },
    HostConfig: { Binds: ['/h:/c:ro'], Memory: 64 * 1024 * 1024, RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 }, PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '' }] } },
  });
  expect(ramInBytes('1g', '-m')).toBe(2 ** 30);
  expect(() => ramInBytes('lots', '--memory')).toThrow('invalid --memory "lots": use a size like 64m or 1g');
  expect(() => createRequest({ volume: ['rel/path'] }, 'img', [])).toThrow(/destination must be an absolute path/);
  expect(() => createRequest({ restart: 'sometimes' }, 'img', [])).toThrow(/invalid restart policy/);
});
