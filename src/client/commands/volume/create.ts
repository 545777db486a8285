import type { OptionTable, Parsed } from '../../argv.js';
import { UsageError } from '../../argv.js';
import { ClientHandler } from '../../handler.js';
import { keyValues } from '../../filters.js';

const OPTIONS = {
  driver: { kind: 'string', char: 'd', description: 'volume driver name (default local)', value: 'DRIVER' },
  label: { kind: 'list', description: 'metadata for the volume', value: 'KEY=VALUE' },
  opt: { kind: 'list', char: 'o', description: 'driver specific options', value: 'KEY=VALUE' },
  name: { kind: 'string', description: 'volume name', value: 'NAME' },
} as const satisfies OptionTable;

export default class VolumeCreate extends ClientHandler<typeof OPTIONS> {
  static summary = 'Create a volume';
  static usage = 'volume create [OPTIONS] [VOLUME]';
  static argsUsage = '[VOLUME]';
  static maxArgs = 1;
  static options = OPTIONS;

  protected async exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<void> {
    if (args[0] && opts.name && args[0] !== opts.name) throw new UsageError(`conflicting options: either specify --name or provide positional arg, not both`);
    const v = await this.client.json<{ Name: string }>('POST', '/volumes/create', {
      body: { Name: args[0] ?? opts.name ?? '', Driver: opts.driver ?? 'local', DriverOpts: keyValues(opts.opt), Labels: keyValues(opts.label) },
    });
    this.out(v.Name + '\n');
  }
}
