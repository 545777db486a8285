import { Flags } from '@oclif/core';
import { MachineCommand } from '../../machine/cli/base.js';
import { QUERIES } from '../../machine/cli/queries.js';

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
    await QUERIES.ls({ args: [], flags, store: this.storeFrom(flags), bin: this.config.bin });
  }
}
