import type { OptionTable, Parsed } from '../argv.js';
import { UsageError } from '../argv.js';
import { ClientHandler } from '../handler.js';
import { EngineApiError } from '../engine.js';
import { inspectOutput } from '../inspect.js';
import { encodeImage } from '../images.js';

const OPTIONS = {
  format: { kind: 'string', char: 'f', description: 'a template like "{{.State.Status}}", or json', value: 'FORMAT' },
  type: { kind: 'string', description: 'only look for a container, image, network or volume', value: 'TYPE' },
  size: { kind: 'bool', char: 's', description: 'display total file sizes if the type is container' },
} as const satisfies OptionTable;

const PATHS: Record<string, (n: string) => string> = {
  container: (n) => `/containers/${encodeURIComponent(n)}/json`,
  image: (n) => `/images/${encodeImage(n)}/json`,
  network: (n) => `/networks/${encodeURIComponent(n)}`,
  volume: (n) => `/volumes/${encodeURIComponent(n)}`,
};

export default class Inspect extends ClientHandler<typeof OPTIONS> {
  static summary = 'Return low-level information on containers, images, networks or volumes';
  static minArgs = 1;
  static argsUsage = 'NAME|ID [NAME|ID...]';
  static usage = 'inspect [OPTIONS] NAME|ID [NAME|ID...]';
  static options = OPTIONS;

  protected async exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<number> {
    if (opts.type && !PATHS[opts.type]) throw new UsageError(`"${opts.type}" is not a valid value for --type: use container, image, network or volume`);
    const kinds = opts.type ? [opts.type] : Object.keys(PATHS);
    const found: unknown[] = [];
    let failed = 0;
    for (const name of args) {
      const value = await this.find(name, kinds, opts.size);
      if (value === undefined) {
        this.err(`berth: no such object: ${name}\n`);
        failed++;
      } else found.push(value);
    }
    this.out(inspectOutput(found, opts.format));
    return failed ? 1 : 0;
  }

  private async find(name: string, kinds: string[], size?: boolean): Promise<unknown> {
    for (const kind of kinds) {
      try {
        return await this.client.json('GET', PATHS[kind](name), { query: { size: kind === 'container' ? size : undefined } });
      } catch (err) {
        if (!(err instanceof EngineApiError && (err.status === 404 || err.status === 400))) throw err;
      }
    }
    return undefined;
  }
}
