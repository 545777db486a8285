/**
 * Docker-style command-line options: `-d`, `-it` (grouped booleans), `-e K=V`,
 * `-eK=V`, `--name x`, `--name=x`, repeatable options, and `--`. Commands that take a
 * command line of their own (run, create, exec) stop at the first argument, as the
 * docker CLI does, so `berth run busybox sh -c 'ls -l'` keeps `-c` for sh.
 */
export type OptionKind = 'bool' | 'string' | 'list' | 'int';

export interface OptionSpec {
  kind: OptionKind;
  char?: string;
  description: string;
  /** Value names shown in help, e.g. "KEY=VALUE". */
  value?: string;
}

export type OptionTable = Record<string, OptionSpec>;

export type Parsed<T extends OptionTable> = {
  opts: { [K in keyof T]?: T[K]['kind'] extends 'bool' ? boolean : T[K]['kind'] extends 'list' ? string[] : T[K]['kind'] extends 'int' ? number : string };
  args: string[];
};

export class UsageError extends Error {}

export function parseArgv<T extends OptionTable>(argv: string[], table: T, stopAtFirstArg: boolean): Parsed<T> {
  const opts: Record<string, unknown> = {};
  const args: string[] = [];
  const byChar = new Map<string, string>();
  for (const [name, spec] of Object.entries(table)) if (spec.char) byChar.set(spec.char, name);

  const set = (name: string, value: string | true, shown: string) => {
    const spec = table[name];
    if (spec.kind === 'bool') {
      if (value === true) opts[name] = true;
      else if (/^(true|1)$/i.test(value)) opts[name] = true;
      else if (/^(false|0)$/i.test(value)) opts[name] = false;
      else throw new UsageError(`invalid argument "${value}" for "${shown}": use true or false`);
    } else if (spec.kind === 'int') {
      if (!/^-?\d+$/.test(String(value))) throw new UsageError(`invalid argument "${value}" for "${shown}": expected an integer`);
      opts[name] = Number(value);
    } else if (spec.kind === 'list') {
      ((opts[name] as string[] | undefined) ?? (opts[name] = [] as string[]) as string[]).push(String(value));
    } else opts[name] = String(value);
  };

  let i = 0;
  const next = (shown: string): string => {
    if (i >= argv.length) throw new UsageError(`flag needs an argument: ${shown}`);
    return argv[i++];
  };

  while (i < argv.length) {
    const a = argv[i++];
    if (a === '--') {
      args.push(...argv.slice(i));
      break;
    }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      const spec = table[name];
      if (!spec) throw new UsageError(`unknown flag: --${name}`);
      if (spec.kind === 'bool') set(name, eq > 0 ? a.slice(eq + 1) : true, `--${name}`);
      else set(name, eq > 0 ? a.slice(eq + 1) : next(`--${name}`), `--${name}`);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      // A group of short flags: booleans, the last may take a value ("-it", "-eK=V").
      for (let j = 1; j < a.length; j++) {
        const c = a[j];
        const name = byChar.get(c);
        if (!name) throw new UsageError(`unknown shorthand flag: '${c}' in ${a}`);
        if (table[name].kind === 'bool') {
          if (a[j + 1] === '=') {
            set(name, a.slice(j + 2), `-${c}`);
            break;
          }
          set(name, true, `-${c}`);
          continue;
        }
        const inline = a.slice(j + 1).replace(/^=/, '');
        set(name, inline !== '' ? inline : next(`-${c}`), `-${c}`);
        break;
      }
      continue;
    }
    args.push(a);
    if (stopAtFirstArg) {
      args.push(...argv.slice(i));
      break;
    }
  }
  return { opts, args } as Parsed<T>;
}
