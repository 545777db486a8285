import { Command, Flags, Errors } from '@oclif/core';
import { createInterface } from 'node:readline';
import { InvalidArgumentError, ProvisionError } from '../errors.js';
import { printJson, reportError } from './report.js';
import { Store } from '../store/index.js';

/**
 * Base of every `machine` command: the store flag, and one place that turns errors
 * into a message and an exit code (2 for usage errors, 1 for failures), as JSON on
 * stdout when --json was asked for.
 */
export abstract class MachineCommand extends Command {
  static baseFlags = {
    'storage-path': Flags.string({ char: 's', description: 'machine store directory', env: 'BERTH_STORAGE_PATH', helpGroup: 'GLOBAL' }),
  };

  protected storeFrom(flags: { 'storage-path'?: string }): Store {
    return new Store(flags['storage-path']);
  }

  protected printJson(value: unknown): void {
    printJson(value);
  }

  /**
   * Docker Machine's confirmation: the question, then one line read from stdin (a
   * terminal or a pipe); an answer starting with y/Y is yes. No line at all is an error.
   */
  protected async confirm(question: string): Promise<boolean> {
    process.stdout.write(`${question} (y/n): `);
    const rl = createInterface({ input: process.stdin, terminal: false });
    const line = await new Promise<string | null>((resolve) => {
      rl.once('line', (l) => resolve(l));
      rl.once('close', () => resolve(null));
    });
    rl.close();
    if (line === null) throw new InvalidArgumentError('no answer on stdin to the confirmation', { hint: 'answer y or n, or pass -y/-f to skip the question' });
    return /^y/i.test(line.trim());
  }

  override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (err instanceof Errors.ExitError) throw err;
    reportError(err, this.argv);
    return undefined;
  }
}

/** Commands whose NAME defaults to `default` when omitted. */
export function nameArg(args: { name?: string }): string {
  return args.name ?? 'default';
}

/** Commands taking several NAMEs: none given means `default`. */
export function nameArgs(argv: unknown[]): string[] {
  return argv.length ? (argv as string[]) : ['default'];
}

/** Failures of a multi-machine command as one error: a single one as it is (keeping its kind and hint), else every message in a ProvisionError. */
export function combinedError(errors: Error[]): Error {
  return errors.length === 1 ? errors[0] : new ProvisionError(errors.map((e) => e.message).join('\n'));
}
