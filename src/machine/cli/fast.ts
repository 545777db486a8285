/**
 * bin/berth's shortcut for the read-only machine commands (ls, env, ip, url, config,
 * inspect, status, active): parses their flags itself and runs them without loading
 * oclif, which costs more than the command. Anything it does not fully understand
 * (help, an unknown or malformed flag, a surplus argument, `--`) goes to oclif, which
 * then parses and reports exactly as before. The tables below mirror the oclif
 * commands' flags (test/unit/machine/fast.test.ts holds them equal).
 */
import { Store } from '../store/index.js';
import { QUERIES } from './queries.js';
import { reportError } from './report.js';

export type FastFlagKind = 'boolean' | 'string' | 'integer';
export interface FastFlag { char?: string; kind: FastFlagKind; multiple?: boolean; default?: number }
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

export interface FastParsed { args: string[]; flags: Record<string, any> }

/** The command's names and flags, or undefined when oclif should parse them. */
export function parseFast(spec: FastCommand, argv: string[]): FastParsed | undefined {
  const table = { ...spec.flags, ...STORAGE };
  const byChar = new Map(Object.entries(table).filter(([, f]) => f.char).map(([n, f]) => [`-${f.char}`, n]));
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
    const name = key.startsWith('--') ? key.slice(2) : byChar.get(key);
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
  for (const [name, f] of Object.entries(table)) if (!(name in flags) && f.default !== undefined) flags[name] = f.default;
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
  try {
    await QUERIES[cmd as keyof typeof QUERIES]({ ...parsed, store: new Store(parsed.flags['storage-path']), bin: 'berth' });
  } catch (err) {
    reportError(err as Error, rest);
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}
