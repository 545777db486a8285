import { renderRuleset, tableName } from '../../../../engine/networks/nft.js';
import { renderHosts, renderResolvConf, parseResolvConf, parseExtraHost } from '../../../../engine/networks/etcfiles.js';

test('the ruleset replaces only the daemon table', () => {
  const script = renderRuleset(tableName('br-test.1'), {
    bridges: [{ ifname: 'bt0', subnet: '10.7.0.0/24', internal: false }, { ifname: 'bt1', subnet: '10.8.0.0/24', internal: true }],
    ports: [{ proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, containerIp: '10.7.0.2', containerPort: 80 }, { proto: 'udp', hostIp: '192.0.2.9', hostPort: 53, containerIp: '10.7.0.3', containerPort: 53 }],
  });
  expect(script.startsWith('table ip berth_br_test_1 {}\ndelete table ip berth_br_test_1\n')).toBe(true);
  expect(script).toContain('tcp dport 8080 dnat to 10.7.0.2:80');
  expect(script).toContain('ip daddr 192.0.2.9 udp dport 53 dnat to 10.7.0.3:53');
  expect(script).toContain('ip saddr 10.7.0.0/24 oifname != "bt0" masquerade');
  expect(script).not.toContain('ip saddr 10.8.0.0/24 oifname != "bt1" masquerade'); // internal: no way out
  expect(script).toContain('ct status dnat ip saddr 10.7.0.0/24 oifname "bt0" masquerade'); // hairpin
  expect(script).toContain('iifname "bt1" oifname != "bt1" drop');
  expect(script).toContain('iifname "bt0" oifname "bt1" drop');
  expect(script).not.toMatch(/FORWARD|table ip filter/);
});

test('resolv.conf: embedded resolver on user networks, loopback servers dropped elsewhere', () => {
  const host = parseResolvConf('nameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch corp.example\noptions edns0\n');
  expect(renderResolvConf(host, { dns: [], dnsSearch: [], dnsOptions: [] }, true, false)).toBe('nameserver 127.0.0.11\nsearch corp.example\noptions ndots:0 edns0\n');
  expect(renderResolvConf(host, { dns: [], dnsSearch: [], dnsOptions: [] }, false, false)).toBe('nameserver 10.0.0.2\nsearch corp.example\noptions edns0\n');
  expect(renderResolvConf(host, { dns: ['1.1.1.1'], dnsSearch: ['a.b'], dnsOptions: ['rotate'] }, false, false)).toBe('nameserver 1.1.1.1\nsearch a.b\noptions rotate\n');
});

test('hosts and --add-host', () => {
  expect(parseExtraHost('db:10.0.0.9', '172.17.0.1')).toEqual({ name: 'db', ip: '10.0.0.9' });
  expect(parseExtraHost('gw:host-gateway', '172.17.0.1')).toEqual({ name: 'gw', ip: '172.17.0.1' });
  expect(() => parseExtraHost('db', '')).toThrow(/NAME:IP/);
  expect(renderHosts([{ ip: '10.0.0.2', names: ['abc'] }], [{ ip: '10.0.0.9', names: ['db'] }])).toMatch(/10.0.0.9\tdb\n10.0.0.2\tabc\n$/);
});
