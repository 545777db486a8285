/**
 * berthd's accept rules in a dropping iptables FORWARD chain, tried in a network
 * namespace of the test's own (the host's FORWARD chain is never touched here).
 */
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { forwardScript, parseForwardChain } from '../../../engine/networks/hostforward.js';
import { requireTools, shSync, tempDir } from './netenv.js';

requireTools('nft', 'unshare', 'nsenter');
const dir = tempDir('berth-fwd-');
const ns = join(dir, 'ns');
const inNs = (cmd: string, input?: string) => shSync(input === undefined ? `nsenter --net=${ns} ${cmd}` : `nsenter --net=${ns} ${cmd} <<'EOF'\n${input}EOF`);
const listing = (tag: string) => parseForwardChain(JSON.parse(inNs('nft -j list chain ip filter FORWARD')), tag)!;

beforeAll(() => {
  writeFileSync(ns, '');
  shSync(`unshare --net=${ns} true`);
  inNs('nft -f -', 'table ip filter {\n chain FORWARD { type filter hook forward priority filter; policy drop;\n  iifname "other0" accept comment "not ours"\n }\n}\n');
});

afterAll(() => {
  shSync(`umount ${ns}; rm -f ${ns}`);
  rmSync(dir, { recursive: true, force: true });
});

test('adds and removes only its own rules; the policy and foreign rules stay', () => {
  const tag = 'berth_bt_test';
  const bridges = [{ ifname: 'bt0', subnet: '10.1.0.0/24', internal: false }, { ifname: 'bt1', subnet: '10.2.0.0/24', internal: true }];
  inNs('nft -f -', forwardScript(listing(tag), tag, bridges));
  let text = inNs('nft list chain ip filter FORWARD');
  expect(text).toContain('policy drop;');
  expect(text).toContain('iifname "bt0" accept comment "berth_bt_test"');
  expect(text).toContain('oifname "bt0" ct state established,related accept comment "berth_bt_test"');
  expect(text).toContain('iifname "bt1" oifname "bt1" accept');
  expect(listing(tag).ours).toHaveLength(4);

  inNs('nft -f -', forwardScript(listing(tag), tag, bridges)); // a re-sync replaces, never duplicates
  expect(listing(tag).ours).toHaveLength(4);

  inNs('nft -f -', forwardScript(listing(tag), tag, []));
  text = inNs('nft list chain ip filter FORWARD');
  expect(text).not.toContain('berth_bt_test');
  expect(text).toContain('iifname "other0" accept comment "not ours"');
  expect(text).toContain('policy drop;');
});

test('an accepting chain gets nothing', () => {
  expect(forwardScript({ policy: 'accept', ours: [] }, 't', [{ ifname: 'bt0', subnet: '10.1.0.0/24', internal: false }])).toBe('');
});
