import { Flags } from '@oclif/core';
import { MachineCommand } from '../../machine/cli/base.js';
import { listMachines, parseFilters, renderFormat, renderTable } from '../../machine/ls.js';

export default class Ls extends MachineCommand {
  static summary = 'List machines';
  static flags = {
    quiet: Flags.boolean({ char: 'q', description: 'names only' }),
    filter: Flags.string({ description: 'driver=, state=, name= (regex), label=', multiple: true, multipleNonGreedy: true }),
    timeout: Flags.integer({ char: 't', description: 'seconds to wait for each machine', default: 10 }),
    format: Flags.string({ char: 'f', description: 'Go-template-like format, e.g. "{{.Name}} {{.URL}}"' }),
    json: Flags.boolean({ description: 'print as JSON' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Ls);
    const rows = await listMachines(this.storeFrom(flags), parseFilters(flags.filter ?? []), flags.timeout * 1000);
    const out = flags.json ? JSON.stringify(rows, null, 2) + '\n'
      : flags.quiet ? rows.map((r) => r.Name + '\n').join('')
        : flags.format ? (rows.length ? renderFormat(rows, flags.format) : '') : renderTable(rows);
    // A host that timed out may still hold a pending dial: don't wait for it, the answer is out.
    if (rows.some((r) => r.State === 'Timeout')) process.stdout.write(out, () => process.exit(0));
    else process.stdout.write(out);
  }
}
