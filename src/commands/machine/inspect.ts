import { Args, Flags } from '@oclif/core';
import { MachineCommand, nameArg } from '../../machine/cli/base.js';
import { DOCKER_FUNCS, parseTemplate, TemplateError } from '../../common/gotemplate.js';
import { MachineError } from '../../machine/errors.js';
import { loadMachine } from '../../machine/machine.js';

export default class Inspect extends MachineCommand {
  static summary = 'Print the stored configuration of a machine';
  static args = { name: Args.string({ description: 'machine name (default: "default")' }) };
  static flags = {
    format: Flags.string({ char: 'f', description: 'Go template, e.g. "{{.Driver.IPAddress}}" or "{{json .HostOptions}}"' }),
    json: Flags.boolean({ description: 'print as JSON (the default)' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Inspect);
    const { host } = await loadMachine(this.storeFrom(flags), nameArg(args));
    // As docker-machine inspect: JSON indented by four spaces, or the Go template and a newline.
    if (!flags.format) return void process.stdout.write(JSON.stringify(host, null, 4) + '\n');
    let out: string;
    try {
      out = parseTemplate(flags.format, DOCKER_FUNCS).execute(host);
    } catch (err) {
      if (err instanceof TemplateError) throw new MachineError(`--format: ${err.message}`);
      throw err;
    }
    process.stdout.write(out + '\n');
  }
}
