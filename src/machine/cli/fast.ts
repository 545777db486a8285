/**
 * bin/berth's shortcut for the read-only machine commands (ls, env, ip, url, config,
 * inspect, status, active): parses their flags itself and runs them without loading
 * oclif, which costs more than the command. Anything it does not fully understand
 * (help, an unknown or malformed flag, a surplus argument, `--`) goes to oclif, which
 * then parses and reports exactly as before. The tables below mirror the oclif
 * commands' flags (test/unit/machine/fast.test.ts holds them equal).
 */
import { Store } from '../store/index.js';
import { builtinDrivers, DEFAULT_DRIVER } from '../../../drivers/registry.js';
import { QUERIES } from './queries.js';
import { reportError } from './report.js';

export type FastFlagKind = 'boolean' | 'string' | 'integer';
export interface FastFlag { char?: string; kind: FastFlagKind; multiple?: boolean; default?: unknown; env?: string; aliases?: string[] }
export interface FastCommand { args: 'none' | 'one' | 'many'; flags: Record<string, FastFlag> }

const STORAGE: Record<string, FastFlag> = { 'storage-path': { char: 's', kind: 'string' } };
const json: FastFlag = { kind: 'boolean' };
const timeout: FastFlag = { char: 't', kind: 'integer', default: 10 };

export const FAST_MACHINE_COMMANDS: Record<string, FastCommand> = {
  ls: { args: 'none', flags: { quiet: { char: 'q', kind: 'boolean' }, filter: { kind: 'string', multiple: true }, timeout, format: { char: 'f', kind: 'string' }, json } },
  env: { args: 'one', flags: { shell: { kind: 'string' }, unset: { char: 'u', kind: 'boolean' }, 'no-proxy': { kind: 'boolean' } } },
  ip: { args: 'many', flags: {} },
  url: { args: 'one', flags: {} },
  config: { args: 'one', flags: { json } },
  inspect: { args: 'one', flags: { format: { char: 'f', kind: 'string' }, json } },
  status: { args: 'one', flags: { json } },
  active: { args: 'none', flags: { timeout } },
};

const many = (kind: FastFlagKind = 'string'): FastFlag => ({ kind, multiple: true });

/** create's own flags and every built-in driver's (as src/commands/machine/create.ts declares them). */
function createFlags(): Record<string, FastFlag> {
  const out: Record<string, FastFlag> = {
    driver: { char: 'd', kind: 'string', default: DEFAULT_DRIVER, env: 'MACHINE_DRIVER' },
    'engine-install-url': { kind: 'string' },
    'engine-opt': many(), 'engine-insecure-registry': many(), 'engine-registry-mirror': many(), 'engine-label': many(), 'engine-env': many(),
    'engine-storage-driver': { kind: 'string' },
    'tls-san': many(),
    'keep-on-failure': { kind: 'boolean' },
    json,
    'swarm-manager': { kind: 'boolean' },
    'swarm-join': { kind: 'string' },
  };
  for (const d of builtinDrivers()) {
    for (const f of d.flags) {
      out[f.name] = {
        kind: f.type === 'bool' ? 'boolean' : f.type === 'int' ? 'integer' : 'string',
        ...(f.type === 'stringList' ? { multiple: true } : {}),
        ...(f.default !== undefined ? { default: f.default } : {}),
        ...(f.envVar ? { env: f.envVar } : {}),
        ...(f.aliases?.length ? { aliases: f.aliases } : {}),
      };
    }
  }
  return out;
}
FAST_MACHINE_COMMANDS.create = { args: 'many', flags: createFlags() };

export interface FastParsed { args: string[]; flags: Record<string, any> }

/** The command's names and flags, or undefined when oclif should parse them. */
export function parseFast(spec: FastCommand, argv: string[]): FastParsed | undefined {
  const table = { ...spec.flags, ...STORAGE };
  const byChar = new Map(Object.entries(table).filter(([, f]) => f.char).map(([n, f]) => [`-${f.char}`, n]));
  for (const [n, f] of Object.entries(table)) for (const a of f.aliases ?? []) byChar.set(`--${a}`, n);
  const flags: Record<string, any> = {};
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('-') || a === '-') {
      args.push(a);
      continue;
    }
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const key = eq > 0 ? a.slice(0, eq) : a;
    const name = byChar.get(key) ?? (key.startsWith('--') ? key.slice(2) : undefined);
    const f = name && Object.hasOwn(table, name) ? table[name] : undefined;
    if (!name || !f) return undefined;
    if (f.kind === 'boolean') {
      if (eq > 0 || name in flags) return undefined;
      flags[name] = true;
      continue;
    }
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('-'))) return undefined;
    if (f.kind === 'integer' && !/^-?\d+$/.test(value)) return undefined;
    const v = f.kind === 'integer' ? Number(value) : value;
    if (f.multiple) (flags[name] ??= []).push(v);
    else if (name in flags) return undefined;
    else flags[name] = v;
  }
  if ((spec.args === 'none' && args.length > 0) || (spec.args === 'one' && args.length > 1)) return undefined;
  for (const [name, f] of Object.entries(table)) {
    if (name in flags) continue;
    // As oclif: a set variable stands in for an absent flag (a boolean one when it says 1/true/y/yes).
    const env = f.env !== undefined ? process.env[f.env] : undefined;
    if (env) {
      if (f.kind === 'boolean') flags[name] = ['1', 'true', 'y', 'yes'].includes(env.toLowerCase());
      else if (f.multiple || (f.kind === 'integer' && !/^-?\d+$/.test(env))) return undefined;
      else flags[name] = f.kind === 'integer' ? Number(env) : env;
    } else if (f.default !== undefined) flags[name] = f.default;
  }
  // As oclif's `env: 'BERTH_STORAGE_PATH'` (an empty variable counts as unset).
  if (!('storage-path' in flags) && process.env.BERTH_STORAGE_PATH) flags['storage-path'] = process.env.BERTH_STORAGE_PATH;
  return { args, flags };
}

/** `argv` as bin/berth has it (`machine CMD …`); returns the exit status, or undefined for oclif. */
export async function runMachineFast(argv: string[]): Promise<number | undefined> {
  const [machine, cmd, ...rest] = argv;
  if (machine !== 'machine' || !cmd || !Object.hasOwn(FAST_MACHINE_COMMANDS, cmd)) return undefined;
  const parsed = parseFast(FAST_MACHINE_COMMANDS[cmd], rest);
  if (!parsed) return undefined;
  // A driver from a berth-driver-* package (its flags unknown here), or no name at all: oclif.
  if (cmd === 'create' && (parsed.args.length === 0 || !builtinDrivers().some((d) => d.name === parsed.flags.driver))) return undefined;
  try {
    const store = new Store(parsed.flags['storage-path']);
    if (cmd === 'create') await (await import('./create.js')).runCreate(store, parsed.args, parsed.flags, 'berth');
    else await QUERIES[cmd as keyof typeof QUERIES]({ ...parsed, store, bin: 'berth' });
  } catch (err) {
    reportError(err as Error, rest);
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}
