import { Args, Flags } from '@oclif/core';
import { MachineCommand, nameArg } from '../../machine/cli/base.js';
import { InvalidArgumentError } from '../../machine/errors.js';
import { loadMachine } from '../../machine/machine.js';

export default class Inspect extends MachineCommand {
  static summary = 'Print the stored configuration of a machine';
  static args = { name: Args.string({ description: 'machine name (default: "default")' }) };
  static flags = {
    format: Flags.string({ char: 'f', description: 'field path template, e.g. "{{.Driver.IPAddress}}"' }),
    json: Flags.boolean({ description: 'print as JSON (the default)' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Inspect);
    const { host } = await loadMachine(this.storeFrom(flags), nameArg(args));
    if (!flags.format) return this.printJson(host);
    this.log(flags.format.replace(/\{\{\s*(?:json\s+)?\.([\w.]*)\s*\}\}/g, (_m, path: string) => {
      let v: unknown = host;
      for (const key of path.split('.').filter(Boolean)) {
        if (v === null || typeof v !== 'object' || !(key in v)) throw new InvalidArgumentError(`--format: no field .${path}`);
        v = (v as Record<string, unknown>)[key];
      }
      return typeof v === 'object' ? JSON.stringify(v) : String(v);
    }));
  }
}
