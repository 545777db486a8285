/**
 * Error kinds of the machine library. The CLI base command maps each kind to an exit
 * code (usage errors 2, everything else 1) and prints the message once, with the hint.
 */
export type MachineErrorCode =
  | 'not_found'
  | 'already_exists'
  | 'invalid_argument'
  | 'not_supported'
  | 'unreachable'
  | 'timeout'
  | 'tls'
  | 'provision'
  | 'locked'
  | 'interrupted';

export class MachineError extends Error {
  readonly code: MachineErrorCode = 'provision';
  /** What the user can run or change next, shown after the message. */
  readonly hint?: string;
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options?.hint;
  }
}

export class MachineNotFoundError extends MachineError { override readonly code = 'not_found'; }
export class MachineExistsError extends MachineError { override readonly code = 'already_exists'; }
export class InvalidArgumentError extends MachineError { override readonly code = 'invalid_argument'; }
export class NotSupportedError extends MachineError { override readonly code = 'not_supported'; }
export class UnreachableError extends MachineError { override readonly code = 'unreachable'; }
export class TimeoutError extends MachineError { override readonly code = 'timeout'; }
export class TlsError extends MachineError { override readonly code = 'tls'; }
export class ProvisionError extends MachineError { override readonly code = 'provision'; }
export class LockedError extends MachineError { override readonly code = 'locked'; }

/** Work stopped by SIGINT/SIGTERM: the command exits 128 + the signal's number, as a shell reports it. */
export class InterruptedError extends MachineError {
  override readonly code = 'interrupted';
  readonly exitCode: number;
  constructor(message: string, signal: NodeJS.Signals, options?: { hint?: string }) {
    super(message, options);
    this.exitCode = signal === 'SIGTERM' ? 143 : 130;
  }
}

/** The one-line reason of any thrown value, for messages that name a cause. */
export function reason(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0];
  return String(err);
}
