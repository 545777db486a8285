import { InterruptedError, MachineError, reason } from '../errors.js';
import { debugEnabled } from '../debug.js';

/**
 * A machine command's failure as a message and an exit code (2 for usage errors, 1 for
 * failures), as JSON on stdout when --json was asked for. Shared by the oclif commands
 * and bin/berth's fast path, so both fail alike.
 */
export function reportError(err: Error & { oclif?: { exit?: number } }, argv: string[]): void {
  const usage = (err instanceof MachineError && err.code === 'invalid_argument') || err.oclif?.exit === 2;
  const code = err instanceof InterruptedError ? err.exitCode : usage ? 2 : 1;
  const hint = err instanceof MachineError ? err.hint : undefined;
  if (argv.includes('--json')) {
    printJson({ error: { code: err instanceof MachineError ? err.code : usage ? 'usage' : 'error', message: err.message, hint } });
  } else {
    if (debugEnabled() && err.stack) process.stderr.write(`(debug) ${err.stack}\n`);
    process.stderr.write(`Error: ${err instanceof MachineError || usage ? err.message : reason(err)}\n`);
    if (hint) process.stderr.write(`Hint: ${hint}\n`);
  }
  process.exitCode = code;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
