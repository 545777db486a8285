import { formatIp6, parseCidr6, parseIp6 } from '../../../../engine/networks/cidr6.js';
import { AddressPool6, completeConfig6, defaultPool6, parsePool6Spec, pickSubnet6 } from '../../../../engine/networks/ipam6.js';
import { encodeAnswer, encodeQuery, parseQuery, readAnswerAddresses, TYPE_AAAA } from '../../../../engine/networks/dnsmsg.js';

describe('cidr6', () => {
  test('parses and prints addresses as RFC 5952 does', () => {
    expect(formatIp6(parseIp6('fd00:0:0:0:0:0:0:1'))).toBe('fd00::1');
    expect(formatIp6(parseIp6('2001:db8:0:0:1:0:0:1'))).toBe('2001:db8::1:0:0:1');
    expect(formatIp6(parseIp6('::ffff:10.1.2.3'))).toBe('::ffff:a01:203');
    expect(formatIp6(parseIp6('FD12:3456::'))).toBe('fd12:3456::');
    expect(() => parseIp6('fd00::1::2')).toThrow(/IPv6 address/);
    expect(() => parseCidr6('fd00::1/64')).toThrow(/host bits are set, did you mean fd00::\/64/);
  });
});

describe('AddressPool6', () => {
  test('hands out addresses after the gateway; static ones are held; conflicts and strangers refused', () => {
    const pool = new AddressPool6(completeConfig6({ Subnet: 'fd12:1::/64' }));
    expect(pool.config.Gateway).toBe('fd12:1::1');
    pool.reserve('fd12:1::3');
    expect([pool.allocate(), pool.allocate()]).toEqual(['fd12:1::2', 'fd12:1::4']);
    expect(() => pool.reserve('fd12:1::2')).toThrow(/already in use/);
    expect(() => pool.reserve('fd12:2::2')).toThrow(/not a usable address/);
    pool.release('fd12:1::2');
    expect(pool.allocate()).toBe('fd12:1::5');
    expect(() => completeConfig6({ Subnet: 'fd12:1::/64', Gateway: 'fd13::1' })).toThrow(/not a usable address/);
  });

  test('the default pool is a ULA /48 of the daemon, split into /64s that skip those taken', () => {
    const pool = defaultPool6('/var/lib/berth');
    expect(pool).toEqual(defaultPool6('/var/lib/berth'));
    expect(pool.base).toMatch(/^fd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4}::\/48$/);
    expect(pool.base).not.toBe(defaultPool6('/tmp/other').base);
    const first = pickSubnet6([pool], []);
    const second = pickSubnet6([pool], [parseCidr6(first.Subnet)]);
    expect(first.Subnet).toBe(pool.base.replace('/48', '/64'));
    expect(second.Subnet).not.toBe(first.Subnet);
    expect(parsePool6Spec('base=fd00:aa::/48,size=64')).toEqual({ base: 'fd00:aa::/48', size: 64 });
    expect(() => parsePool6Spec('base=fd00:aa::/48,size=40')).toThrow(/size/);
  });
});

describe('AAAA answers', () => {
  test('encode and read back', () => {
    const q = encodeQuery(7, 'web', TYPE_AAAA);
    const answer = encodeAnswer(q, parseQuery(q)!, ['fd12:1::2']);
    expect(readAnswerAddresses(answer)).toEqual({ rcode: 0, addresses: ['fd12:1::2'] });
  });
});
