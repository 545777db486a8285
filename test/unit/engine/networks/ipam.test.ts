import { AddressPool, completeConfig, parsePoolSpec, pickSubnet } from '../../../../engine/networks/ipam.js';
import { formatCidr, overlaps, parseCidr } from '../../../../engine/networks/cidr.js';

describe('cidr', () => {
  test('parses and rejects host bits with a hint', () => {
    expect(formatCidr(parseCidr('10.1.0.0/16'))).toBe('10.1.0.0/16');
    expect(() => parseCidr('10.1.0.5/16')).toThrow(/host bits are set, did you mean 10.1.0.0\/16/);
    expect(() => parseCidr('10.1.0.0/33')).toThrow(/CIDR/);
    expect(() => parseCidr('300.1.0.0/8')).toThrow(/IPv4/);
  });
  test('overlap', () => {
    expect(overlaps(parseCidr('10.0.0.0/8'), parseCidr('10.5.0.0/16'))).toBe(true);
    expect(overlaps(parseCidr('10.5.0.0/16'), parseCidr('10.6.0.0/16'))).toBe(false);
  });
});

describe('AddressPool', () => {
  test('hands out addresses after the gateway, never the same twice while held, next-fit after release', () => {
    const pool = new AddressPool({ Subnet: '10.9.0.0/29', Gateway: '10.9.0.1' });
    const got = [pool.allocate(), pool.allocate(), pool.allocate()];
    expect(got).toEqual(['10.9.0.2', '10.9.0.3', '10.9.0.4']);
    pool.release('10.9.0.2');
    expect(pool.allocate()).toBe('10.9.0.5'); // not the one just released
    expect(pool.allocate()).toBe('10.9.0.6');
    expect(pool.allocate()).toBe('10.9.0.2'); // wraps to the released one
    expect(() => pool.allocate()).toThrow(/no address left in 10.9.0.0\/29/);
  });
  test('static addresses: conflict, outside the subnet, gateway', () => {
    const pool = new AddressPool({ Subnet: '10.9.0.0/24', Gateway: '10.9.0.1' });
    pool.reserve('10.9.0.50');
    expect(() => pool.reserve('10.9.0.50')).toThrow(/already in use/);
    expect(() => pool.reserve('10.9.0.1')).toThrow(/already in use/);
    expect(() => pool.reserve('10.8.0.5')).toThrow(/not a usable address/);
    expect(() => pool.reserve('10.9.0.255')).toThrow(/not a usable address/);
  });
  test('ip-range limits dynamic allocation', () => {
    const pool = new AddressPool({ Subnet: '10.9.0.0/24', Gateway: '10.9.0.1', IPRange: '10.9.0.128/30' });
    expect([pool.allocate(), pool.allocate(), pool.allocate(), pool.allocate()]).toEqual(['10.9.0.128', '10.9.0.129', '10.9.0.130', '10.9.0.131']);
    expect(() => pool.allocate()).toThrow(/no address left in 10.9.0.128\/30/);
  });
  test('bad configs are refused before anything is made', () => {
    expect(() => completeConfig({ Gateway: '10.0.0.1' })).toThrow(/needs a subnet/);
    expect(() => completeConfig({ Subnet: '10.0.0.0/24', Gateway: '10.0.1.1' })).toThrow(/not a usable address/);
    expect(() => completeConfig({ Subnet: '10.0.0.0/24', IPRange: '10.0.1.0/28' })).toThrow(/not inside subnet/);
    expect(completeConfig({ Subnet: '10.0.0.0/24' })).toEqual({ Subnet: '10.0.0.0/24', Gateway: '10.0.0.1' });
  });
});

describe('subnet choice', () => {
  test('skips subnets overlapping host routes and other networks', () => {
    const pools = [{ base: '172.17.0.0/16', size: 16 }, { base: '172.18.0.0/15', size: 16 }];
    expect(pickSubnet(pools, [parseCidr('172.17.5.0/24')]).Subnet).toBe('172.18.0.0/16');
    expect(() => pickSubnet(pools, [parseCidr('172.16.0.0/12')])).toThrow(/address pools are in use/);
  });
  test('parses --default-address-pools', () => {
    expect(parsePoolSpec('base=10.10.0.0/16,size=24')).toEqual({ base: '10.10.0.0/16', size: 24 });
    expect(() => parsePoolSpec('base=10.10.0.0/16')).toThrow(/base=CIDR,size=N/);
    expect(() => parsePoolSpec('base=10.10.0.0/24,size=16')).toThrow(/larger than the base/);
  });
});
