import { parseArgv, UsageError, type OptionTable, type Parsed } from './argv.js';
import { ConnectError, EngineApiError, EngineClient } from './engine.js';
import { EndpointError, resolveEndpoint, type EndpointOptions } from './endpoint.js';
import { FormatError } from './format.js';
import { DaemonStreamError } from './frames.js';
import { BadReferenceError } from './images.js';
import { ProgressError } from './progress.js';

/** Options every client command takes: where the engine is and how to trust it. */
export const GLOBAL_OPTIONS = {
  host: { kind: 'string', char: 'H', description: 'engine to connect to (unix:///path or tcp://HOST:PORT); default $DOCKER_HOST, the docker context, /run/berth/berthd.sock', value: 'HOST' },
  context: { kind: 'string', description: 'docker context to use (overrides DOCKER_HOST and the current context)', value: 'NAME' },
  tlsverify: { kind: 'bool', description: 'use TLS and verify the engine (default: $DOCKER_TLS_VERIFY)' },
  tlscacert: { kind: 'string', description: 'trust certificates signed by this CA (default $DOCKER_CERT_PATH/ca.pem)', value: 'FILE' },
  tlscert: { kind: 'string', description: 'TLS client certificate (default $DOCKER_CERT_PATH/cert.pem)', value: 'FILE' },
  tlskey: { kind: 'string', description: 'TLS client key (default $DOCKER_CERT_PATH/key.pem)', value: 'FILE' },
} as const satisfies OptionTable;

/**
 * Base of berth's docker-compatible commands, free of oclif so bin/berth can run them
 * without loading it: docker-style option parsing, the engine client, and one place
 * that turns failures into `berth: message` and docker's exit codes (1 for engine
 * errors, 2 for usage; run and create use 125 for both).
 */
export abstract class ClientHandler<T extends OptionTable> {
  static summary = '';
  static description?: string;
  static usage = '';
  static options: OptionTable = {};
  /** run/create/exec: options stop at the first argument (the image or container). */
  static stopAtFirstArg = false;
  static minArgs = 0;
  static maxArgs = Infinity;
  static argsUsage = '';
  static failExit = 1;
  static usageExit = 2;

  protected client!: EngineClient;

  constructor(readonly id: string) {}

  protected abstract exec(parsed: Parsed<T>): Promise<number | void>;

  private get statics(): typeof ClientHandler {
    return this.constructor as unknown as typeof ClientHandler;
  }

  /** Runs the command; never throws: returns the exit status after printing any error. */
  async main(argv: string[]): Promise<number> {
    try {
      const parsed = parseArgv(argv, { ...this.statics.options, ...GLOBAL_OPTIONS }, this.statics.stopAtFirstArg);
      const n = parsed.args.length;
      const { minArgs, maxArgs } = this.statics;
      if (n < minArgs || n > maxArgs) {
        const want = maxArgs === minArgs ? `exactly ${minArgs}` : maxArgs === Infinity ? `at least ${minArgs}` : `at most ${maxArgs}`;
        throw new UsageError(`"berth ${this.id}" requires ${want} argument${minArgs === 1 && want.startsWith('exactly') ? '' : 's'} (usage: berth ${this.id} ${this.statics.argsUsage})`);
      }
      this.client = new EngineClient(resolveEndpoint(parsed.opts as EndpointOptions));
      try {
        return (await this.exec(parsed as unknown as Parsed<T>)) ?? 0;
      } finally {
        this.client.close();
      }
    } catch (err) {
      return this.fail(err as Error);
    }
  }

  private fail(err: Error): number {
    if (err instanceof UsageError) {
      this.err(`berth: ${err.message}\nSee 'berth ${this.id} --help'.\n`);
      return this.statics.usageExit;
    }
    this.err(`berth: ${err.message}\n`);
    if (!isClientError(err) && process.env.BERTH_DEBUG) this.err(`${(err as Error).stack}\n`);
    return this.statics.failExit;
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
}

export type HandlerClass = (new (id: string) => ClientHandler<any>) & Pick<typeof ClientHandler, 'summary' | 'description' | 'usage' | 'options'>;

export function isClientError(err: unknown): err is Error {
  return err instanceof EngineApiError || err instanceof ConnectError || err instanceof EndpointError || err instanceof FormatError
    || err instanceof ProgressError || err instanceof DaemonStreamError || err instanceof UsageError || err instanceof BadReferenceError;
}
