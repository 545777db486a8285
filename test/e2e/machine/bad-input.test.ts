/**
 * Bad input gets one clear line (and a hint), exit 2 for usage and 1 for failures,
 * and leaves nothing behind in the store.
 */
import { jest } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSshHosts, type SshHosts } from '../../fixtures/sshhosts.js';
import { berth, tempDir, removeTempDirs } from './helpers.js';

jest.setTimeout(60_000);

let f: SshHosts;
const store = tempDir('berth-bad-store-');
const env = { BERTH_STORAGE_PATH: store, BERTH_SSH_TIMEOUT: '3' };
const machines = () => readdirSync(join(store, 'machines'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
const generic = (ip: string, extra: string[], name: string) => ['machine', 'create', '-d', 'generic', '--generic-ip-address', ip, ...extra, name];

beforeAll(async () => {
  f = await startSshHosts(1);
  // One existing machine, to collide with.
  mkdirSync(join(store, 'machines', 'taken'), { recursive: true });
  writeFileSync(join(store, 'machines', 'taken', 'config.json'), JSON.stringify({ ConfigVersion: 3, Name: 'taken', DriverName: 'generic', Driver: { IPAddress: '10.9.9.9', SSHUser: 'root', SSHPort: 22, SSHKeyPath: '', StorePath: '.' }, HostOptions: { EngineOptions: {}, AuthOptions: { ServerCertSANs: [] } } }));
});
afterAll(() => {
  f?.cleanup();
  removeTempDirs();
});

test.each([
  [['machine', 'create', '-d', 'generic', '-bad'], /Nonexistent flag|invalid machine name/],
  [['machine', 'create', 'no_underscores'], /invalid machine name "no_underscores"/],
  [['machine', 'create', 'two', 'two'], /given twice/],
  [['machine', 'create', '-d', 'hyperv', 'x1'], /unknown driver "hyperv"/],
  [['machine', 'create', '-d', 'generic', 'x2'], /requires --generic-ip-address/],
  [['machine', 'create', '-d', 'generic', '--generic-ip-address', '10.1.1.1', 'x3'], /needs the SSH key/],
  [['machine', 'create', '--engine-env', 'NOEQUALS', 'x4'], /--engine-env "NOEQUALS": expected KEY=VALUE/],
  [['machine', 'env', '--shell', 'klingon', 'taken'], /unknown shell "klingon"/],
  [['machine', 'ls', '--filter', 'colour=red'], /Unsupported filter key 'colour'/],
])('%j is a usage error', (args, message) => {
  const r = berth(args, env);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.code).toBe(2);
  expect(machines()).toEqual(['taken']);
});

test('a duplicate create exits 1 with Docker Machine\'s message', () => {
  const r = berth(['machine', 'create', 'taken'], env);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^Error: Host already exists: "taken"\n/);
  expect(machines()).toEqual(['taken']);
});

test('an unknown machine: exit 1, names it and what to run', () => {
  const r = berth(['machine', 'inspect', 'ghost'], env);
  expect(r.code).toBe(1);
  expect(r.stderr).toBe('Error: Host does not exist: "ghost"\nHint: see `berth machine ls`\n');
});

test('upgrade of unknown machines: one failure keeps its kind and hint, several are reported together', () => {
  const one = berth(['machine', 'upgrade', '--json', 'ghost'], env);
  expect(one.code).toBe(1);
  expect(JSON.parse(one.stdout.slice(one.stdout.lastIndexOf('{\n  "error"')))).toEqual({ error: { code: 'not_found', message: 'Host does not exist: "ghost"', hint: 'see `berth machine ls`' } });
  const two = berth(['machine', 'provision', 'ghost', 'phantom'], env);
  expect(two.code).toBe(1);
  expect(two.stderr).toMatch(/^Error: Host does not exist: "(ghost|phantom)"\nHost does not exist: "(ghost|phantom)"\n$/m);
  expect(two.stderr).not.toMatch(/Hint:/);
});

test('an unreachable host: bounded wait, the message names host, port and last error; nothing left', () => {
  const ip = f.freeIp();
  const r = berth(generic(ip, ['--generic-ssh-key', f.keyPath], 'unreach'), env);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(new RegExp(`waited 3 s for SSH on ${ip.replace(/\./g, '\\.')}:22; last error: \\S+`));
  expect(machines()).toEqual(['taken']);
});

test('a wrong SSH key is refused at once; nothing left', () => {
  const r = berth(generic(f.hosts[0].ip, ['--generic-ssh-key', f.wrongKeyPath], 'wrongkey'), env);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/refused the key/);
  expect(machines()).toEqual(['taken']);
});

test('a user without root or sudo is refused; nothing left', () => {
  const r = berth(generic(f.hosts[0].ip, ['--generic-ssh-key', f.keyPath, '--generic-ssh-user', f.plainUser], 'noroot'), env);
  expect(r.stderr).toMatch(/is not root and has no password-less sudo/);
  expect(r.code).not.toBe(0);
  expect(machines()).toEqual(['taken']);
});

test('--json errors are JSON with a code', () => {
  const r = berth(['machine', 'status', '--json', 'ghost'], env);
  expect(r.code).toBe(1);
  expect(JSON.parse(r.stdout)).toEqual({ error: { code: 'not_found', message: 'Host does not exist: "ghost"', hint: 'see `berth machine ls`' } });
});

test('a directory left by a create killed before its first save: ls skips it, rm removes it', () => {
  const dead = spawnSync('true').pid!;
  mkdirSync(join(store, 'machines', 'cut'));
  writeFileSync(join(store, 'machines', 'cut', 'creating.json'), JSON.stringify({ hostCreated: false, step: 'Reserving the name and keys', pid: dead }));
  expect(berth(['machine', 'ls', '-q', '--filter', 'name=^cut$'], env)).toEqual({ code: 0, stdout: '', stderr: '' });
  const rm = berth(['machine', 'rm', '-y', 'cut'], env);
  expect(rm).toEqual({ code: 0, stdout: 'Successfully removed cut\n', stderr: '' });
  expect(machines()).toEqual(['taken']);
});

test('--keep-on-failure keeps the store entry of a failed create; rm -f removes it', () => {
  const r = berth(generic(f.freeIp(), ['--generic-ssh-key', f.keyPath, '--keep-on-failure'], 'kept'), { ...env, BERTH_SSH_TIMEOUT: '1' });
  expect(r.code).toBe(1);
  expect(machines()).toEqual(['kept', 'taken']);
  expect(berth(['machine', 'rm', '-f', 'kept'], env).code).toBe(0);
  expect(machines()).toEqual(['taken']);
});
