/**
 * Error kinds of the engine. Services throw these; engine/api/errors.ts is the one
 * place that maps them to HTTP status codes.
 */
export type ErrorCode =
  | 'not_found'
  | 'conflict'
  | 'invalid_argument'
  | 'not_implemented'
  | 'unauthorized'
  | 'forbidden'
  | 'not_modified'
  | 'unavailable'
  | 'too_large'
  | 'internal';

export class EngineError extends Error {
  readonly code: ErrorCode = 'internal';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class NotFoundError extends EngineError { override readonly code = 'not_found'; }
export class ConflictError extends EngineError { override readonly code = 'conflict'; }
export class InvalidArgumentError extends EngineError { override readonly code = 'invalid_argument'; }
export class NotImplementedError extends EngineError { override readonly code = 'not_implemented'; }
export class UnauthorizedError extends EngineError { override readonly code = 'unauthorized'; }
export class ForbiddenError extends EngineError { override readonly code = 'forbidden'; }
export class NotModifiedError extends EngineError { override readonly code = 'not_modified'; }
export class UnavailableError extends EngineError { override readonly code = 'unavailable'; }
export class PayloadTooLargeError extends EngineError { override readonly code = 'too_large'; }

export function isEngineError(err: unknown): err is EngineError {
  return err instanceof EngineError;
}
