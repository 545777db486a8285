import { parseHostPort, parsePortKey, portRequests, portsMap } from '../../../../engine/networks/ports.js';

test('port keys', () => {
  expect(parsePortKey('80')).toEqual({ proto: 'tcp', port: 80 });
  expect(parsePortKey('53/udp')).toEqual({ proto: 'udp', port: 53 });
  expect(() => parsePortKey('0/tcp')).toThrow(/from 1 to 65535/);
  expect(() => parsePortKey('70000')).toThrow(/from 1 to 65535/);
  expect(() => parsePortKey('80/sctp')).toThrow(/use tcp or udp/);
  expect(() => parsePortKey('http')).toThrow(/invalid port "http"/);
});

test('host ports: single, range, ephemeral, invalid', () => {
  expect(parseHostPort('')).toEqual({ min: 0, max: 0 });
  expect(parseHostPort('8080')).toEqual({ min: 8080, max: 8080 });
  expect(parseHostPort('8000-8010')).toEqual({ min: 8000, max: 8010 });
  expect(() => parseHostPort('8010-8000')).toThrow(/START-END/);
  expect(() => parseHostPort('99999')).toThrow(/invalid host port/);
});

test('requests from PortBindings and -P', () => {
  const reqs = portRequests({ '80/tcp': {}, '443/tcp': {} }, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }], '53/udp': [{ HostPort: '' }] }, true);
  expect(reqs).toEqual([
    { proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPortMin: 8080, hostPortMax: 8080 },
    { proto: 'udp', containerPort: 53, hostIp: '0.0.0.0', hostPortMin: 0, hostPortMax: 0 },
    { proto: 'tcp', containerPort: 443, hostIp: '0.0.0.0', hostPortMin: 0, hostPortMax: 0 },
  ]);
  expect(() => portRequests({}, { '80/tcp': [{ HostIp: 'nope', HostPort: '1' }] }, false)).toThrow(/host IP for port 80\/tcp/);
});

test('NetworkSettings.Ports lists exposed ports as null', () => {
  expect(portsMap({ '80/tcp': {}, '22/tcp': {} }, [{ proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPort: 32768 }]))
    .toEqual({ '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '32768' }], '22/tcp': null });
});
