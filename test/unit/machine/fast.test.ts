/**
 * bin/berth's oclif-free path for the read-only machine commands: its flag tables
 * match the oclif commands', it parses what they accept, and it leaves everything
 * else (help, unknown or malformed flags, surplus names) to oclif.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../../src/common/paths.js';
import { FAST_MACHINE_COMMANDS, parseFast, type FastFlag } from '../../../src/machine/cli/fast.js';
import { MachineCommand } from '../../../src/machine/cli/base.js';

type OclifFlag = { type: string; char?: string; multiple?: boolean; default?: unknown; env?: string; aliases?: string[]; parse: (input: string, ctx: unknown, opts: unknown) => Promise<unknown> };
const oclifFlag = async (f: OclifFlag): Promise<FastFlag> => ({
  ...(f.char ? { char: f.char } : {}),
  // Flags.integer's parse turns "7" into 7; Flags.string's keeps it a string.
  kind: f.type === 'boolean' ? 'boolean' : typeof (await f.parse('7', {}, f)) === 'number' ? 'integer' : 'string',
  ...(f.multiple ? { multiple: true } : {}),
  ...(f.default !== undefined ? { default: f.default } : {}),
  ...(f.env ? { env: f.env } : {}),
  ...(f.aliases?.length ? { aliases: f.aliases } : {}),
});

test.each(Object.keys(FAST_MACHINE_COMMANDS))('machine %s: the fast table holds the oclif command\'s flags and arguments', async (name) => {
  const { default: Cmd } = await import(`../../../src/commands/machine/${name}.js`);
  const fast = FAST_MACHINE_COMMANDS[name];
  const flags = Object.fromEntries(await Promise.all(Object.entries(Cmd.flags ?? {}).map(async ([k, f]) => [k, await oclifFlag(f as OclifFlag)])));
  expect(fast.flags).toEqual(flags);
  expect(Object.keys(MachineCommand.baseFlags)).toEqual(['storage-path']);
  expect(fast.args).toBe(Object.keys(Cmd.args ?? {}).length === 0 ? 'none' : Cmd.strict === false ? 'many' : 'one');
});

test('parses the forms the oclif commands accept', () => {
  const prev = process.env.BERTH_STORAGE_PATH;
  process.env.BERTH_STORAGE_PATH = '/env-store';
  try {
    expect(parseFast(FAST_MACHINE_COMMANDS.ls, ['-q', '--filter', 'driver=none', '--filter=state=Running', '-t', '3', '--format={{.Name}}']))
      .toEqual({ args: [], flags: { quiet: true, filter: ['driver=none', 'state=Running'], timeout: 3, format: '{{.Name}}', 'storage-path': '/env-store' } });
    expect(parseFast(FAST_MACHINE_COMMANDS.env, ['--shell', 'fish', 'dev', '-s', '/st', '--no-proxy']))
      .toEqual({ args: ['dev'], flags: { shell: 'fish', 'no-proxy': true, 'storage-path': '/st' } });
    expect(parseFast(FAST_MACHINE_COMMANDS.ip, ['a', 'b', 'c'])?.args).toEqual(['a', 'b', 'c']);
    expect(parseFast(FAST_MACHINE_COMMANDS.active, [])?.flags).toEqual({ timeout: 10, 'storage-path': '/env-store' });
    process.env.BERTH_STORAGE_PATH = '';
    expect(parseFast(FAST_MACHINE_COMMANDS.url, [])).toEqual({ args: [], flags: {} });
  } finally {
    if (prev === undefined) delete process.env.BERTH_STORAGE_PATH;
    else process.env.BERTH_STORAGE_PATH = prev;
  }
});

test('create: driver flags with their defaults, variables and aliases; repeatable flags one value each', () => {
  const saved = { ...process.env };
  try {
    delete process.env.MACHINE_DRIVER;
    delete process.env.GENERIC_SSH_USER;
    delete process.env.BERTH_STORAGE_PATH;
    delete process.env.QEMU_FORWARD;
    const p = parseFast(FAST_MACHINE_COMMANDS.create, ['-d', 'generic', '--generic-ip-address', '10.0.0.5', '--engine-opt', 'a=b', '--engine-opt=c=d', 'n1', 'n2'])!;
    expect(p.args).toEqual(['n1', 'n2']);
    expect(p.flags).toMatchObject({ driver: 'generic', 'generic-ip-address': '10.0.0.5', 'generic-ssh-user': 'root', 'generic-ssh-port': 22, 'engine-opt': ['a=b', 'c=d'] });
    expect(p.flags['keep-on-failure']).toBeUndefined();
    process.env.MACHINE_DRIVER = 'none';
    process.env.GENERIC_SSH_USER = 'admin';
    const q = parseFast(FAST_MACHINE_COMMANDS.create, ['--url', 'tcp://1.2.3.4:2376', 'n'])!;
    expect(q.flags).toMatchObject({ driver: 'none', 'none-url': 'tcp://1.2.3.4:2376', 'generic-ssh-user': 'admin' });
    // A repeatable flag from a variable: oclif's reading of it is left to oclif.
    process.env.QEMU_FORWARD = '8080:80';
    expect(parseFast(FAST_MACHINE_COMMANDS.create, ['n'])).toBeUndefined();
  } finally {
    process.env = saved;
  }
});

test.each([
  ['ls', ['--help']],
  ['ls', ['--bogus']],
  ['ls', ['-qf', 'x']],
  ['ls', ['extra']],
  ['ls', ['-t', 'ten']],
  ['ls', ['--format']],
  ['ls', ['--json=true']],
  ['ls', ['--']],
  ['env', ['a', 'b']],
  ['env', ['--shell', '--unset']],
  ['env', ['-u', '-u']],
  ['inspect', ['-f', 'x', '-f', 'y', 'm']],
  ['ip', ['-h']],
])('machine %s %j is left to oclif', (name, argv) => {
  expect(parseFast(FAST_MACHINE_COMMANDS[name], argv)).toBeUndefined();
});

test('bin/berth keeps a code cache per fast command: its list is the fast table\'s', () => {
  // bin/berth cannot import the table (that would load the bundle it is choosing a cache for)
  const entry = readFileSync(join(projectRoot(), 'bin', 'berth'), 'utf8');
  const listed = /const CACHED_COMMANDS = new Set\(\[([^\]]*)\]\)/.exec(entry)?.[1];
  expect(listed?.split(',').map((s) => s.trim().replace(/^'|'$/g, '')).sort()).toEqual(Object.keys(FAST_MACHINE_COMMANDS).sort());
});
