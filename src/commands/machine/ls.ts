import { Flags } from '@oclif/core';
import { MachineCommand } from '../../machine/cli/base.js';
import { listMachines, parseFilters, renderLs } from '../../machine/ls.js';

export default class Ls extends MachineCommand {
  static summary = 'List machines';
  static flags = {
    quiet: Flags.boolean({ char: 'q', description: 'names only' }),
    filter: Flags.string({ description: 'swarm=, driver=, state=, name= (regex), label=KEY=VALUE', multiple: true, multipleNonGreedy: true }),
    timeout: Flags.integer({ char: 't', description: 'seconds to wait for each machine', default: 10 }),
    format: Flags.string({ char: 'f', description: 'Go template, e.g. "{{.Name}} {{.URL}}" or "table {{.Name}}\\t{{.State}}"' }),
    json: Flags.boolean({ description: 'print as JSON' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Ls);
    if (flags.format) renderLs([], flags.format); // a template that does not parse fails before any host is asked
    const rows = await listMachines(this.storeFrom(flags), parseFilters(flags.filter ?? []), flags.timeout * 1000);
    const out = flags.json ? JSON.stringify(rows, null, 2) + '\n'
      : flags.quiet ? rows.map((r) => r.Name + '\n').join('')
        : renderLs(rows, flags.format);
    // A host that timed out may still hold a pending dial: don't wait for it, the answer is out.
    if (rows.some((r) => r.State === 'Timeout')) process.stdout.write(out, () => process.exit(0));
    else process.stdout.write(out);
  }
}
