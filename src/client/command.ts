import { Command, Flags } from '@oclif/core';
import type { OptionSpec, OptionTable } from './argv.js';
import { GLOBAL_OPTIONS, type HandlerClass } from './handler.js';

/** The option table as oclif flags, so `berth X --help` lists them (parsing stays docker-style). */
export function helpFlags(table: OptionTable): Record<string, any> {
  const out: Record<string, any> = {};
  for (const [name, spec] of Object.entries({ ...table, ...GLOBAL_OPTIONS }) as Array<[string, OptionSpec]>) {
    const common = { description: spec.description, ...(spec.char ? { char: spec.char as any } : {}), ...(name in GLOBAL_OPTIONS ? { helpGroup: 'GLOBAL' } : {}) };
    if (spec.kind === 'bool') out[name] = Flags.boolean(common);
    else if (spec.kind === 'int') out[name] = Flags.integer(common);
    else if (spec.kind === 'list') out[name] = Flags.string({ ...common, helpValue: spec.value, multiple: true });
    else out[name] = Flags.string({ ...common, helpValue: spec.value });
  }
  return out;
}

/** The oclif command for a client handler: help and routing from oclif, the rest from the handler. */
export function clientCommand(Handler: HandlerClass): typeof Command {
  return class extends Command {
    static summary = Handler.summary;
    static description = Handler.description;
    static usage = Handler.usage;
    static strict = false;
    static flags = helpFlags(Handler.options);

    async run(): Promise<void> {
      // Parsed by the handler docker-style, not by oclif (which would take `sh -c`'s -c for its own).
      this.parsed = true;
      process.exitCode = await new Handler((this.id ?? Handler.usage.split(' ')[0]).replace(/:/g, ' ')).main(this.argv);
    }
  };
}
