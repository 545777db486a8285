import { Command, Errors, Flags } from '@oclif/core';
import { parseArgv, UsageError, type OptionSpec, type OptionTable, type Parsed } from './argv.js';
import { ConnectError, EngineApiError, EngineClient } from './engine.js';
import { EndpointError, resolveEndpoint, type EndpointOptions } from './endpoint.js';
import { FormatError } from './format.js';
import { ProgressError } from './progress.js';
import { BadReferenceError } from './images.js';
import { DaemonStreamError } from './frames.js';

/** Options every client command takes: where the engine is and how to trust it. */
export const GLOBAL_OPTIONS = {
  host: { kind: 'string', char: 'H', description: 'engine to connect to (unix:///path or tcp://HOST:PORT); default $DOCKER_HOST, the docker context, /run/berth/berthd.sock', value: 'HOST' },
  context: { kind: 'string', description: 'docker context to use (overrides DOCKER_HOST and the current context)', value: 'NAME' },
  tlsverify: { kind: 'bool', description: 'use TLS and verify the engine (default: $DOCKER_TLS_VERIFY)' },
  tlscacert: { kind: 'string', description: 'trust certificates signed by this CA (default $DOCKER_CERT_PATH/ca.pem)', value: 'FILE' },
  tlscert: { kind: 'string', description: 'TLS client certificate (default $DOCKER_CERT_PATH/cert.pem)', value: 'FILE' },
  tlskey: { kind: 'string', description: 'TLS client key (default $DOCKER_CERT_PATH/key.pem)', value: 'FILE' },
} as const satisfies OptionTable;

/** The same table as oclif flags, so `berth X --help` lists them (parsing stays docker-style). */
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

/**
 * Base of berth's docker-compatible commands: docker-style option parsing, the
 * engine client, and one place that turns failures into `berth: message` and docker's
 * exit codes (1 for engine errors, 2 for usage; run and create use 125 for both).
 */
export abstract class ClientCommand<T extends OptionTable> extends Command {
  static strict = false;
  /** run/create/exec: options stop at the first argument (the image or container). */
  static stopAtFirstArg = false;
  static minArgs = 0;
  static maxArgs = Infinity;
  static argsUsage = '';
  static failExit = 1;
  static usageExit = 2;

  protected client!: EngineClient;
  protected abstract readonly options: T;

  protected abstract exec(parsed: Parsed<T>): Promise<number | void>;

  private get statics(): typeof ClientCommand {
    return this.constructor as unknown as typeof ClientCommand;
  }

  async run(): Promise<void> {
    // Parsed here docker-style, not by oclif (which would take `sh -c`'s -c for its own).
    this.parsed = true;
    const parsed = parseArgv(this.argv, { ...this.options, ...GLOBAL_OPTIONS }, this.statics.stopAtFirstArg) as Parsed<T & typeof GLOBAL_OPTIONS>;
    const n = parsed.args.length;
    if (n < this.statics.minArgs || n > this.statics.maxArgs) {
      const want = this.statics.maxArgs === this.statics.minArgs ? `exactly ${this.statics.minArgs}` : this.statics.maxArgs === Infinity ? `at least ${this.statics.minArgs}` : `at most ${this.statics.maxArgs}`;
      throw new UsageError(`"berth ${this.id}" requires ${want} argument${this.statics.minArgs === 1 && want.startsWith('exactly') ? '' : 's'} (usage: berth ${this.id} ${this.statics.argsUsage})`);
    }
    this.client = new EngineClient(resolveEndpoint(parsed.opts as EndpointOptions));
    try {
      const code = await this.exec(parsed as Parsed<T>);
      process.exitCode = code ?? 0;
    } finally {
      this.client.close();
    }
  }

  protected out(text: string): void {
    process.stdout.write(text);
  }

  protected err(text: string): void {
    process.stderr.write(text);
  }

  /** Runs `fn` for each name like `docker rm a b`: errors are printed, and the exit status is 1 if any failed. */
  protected async each(names: string[], fn: (name: string) => Promise<string | void>): Promise<number> {
    let failed = 0;
    for (const name of names) {
      try {
        const line = await fn(name);
        if (line !== undefined) this.out(line + '\n');
      } catch (err) {
        if (!isClientError(err)) throw err;
        this.err(`berth: ${err.message}\n`);
        failed++;
      }
    }
    return failed ? 1 : 0;
  }

  override async catch(err: Error): Promise<unknown> {
    if (err instanceof Errors.ExitError) throw err;
    if (err instanceof UsageError) {
      this.err(`berth: ${err.message}\nSee 'berth ${this.id} --help'.\n`);
      process.exitCode = this.statics.usageExit;
    } else {
      this.err(`berth: ${err.message}\n`);
      process.exitCode = this.statics.failExit;
      if (process.env.BERTH_DEBUG) this.err(`${err.stack}\n`);
    }
    return undefined;
  }
}

export function isClientError(err: unknown): err is Error {
  return err instanceof EngineApiError || err instanceof ConnectError || err instanceof EndpointError || err instanceof FormatError
    || err instanceof ProgressError || err instanceof BadReferenceError || err instanceof DaemonStreamError || err instanceof UsageError;
}
