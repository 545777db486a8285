/** The one place engine error kinds become HTTP status codes. */
import { isEngineError, type ErrorCode } from '../errors.js';

const STATUS: Record<ErrorCode, number> = {
  not_found: 404,
  conflict: 409,
  invalid_argument: 400,
  not_implemented: 501,
  unauthorized: 401,
  forbidden: 403,
  not_modified: 304,
  unavailable: 503,
  too_large: 413,
  internal: 500,
};

export function httpStatusOf(err: unknown): number {
  return isEngineError(err) ? STATUS[err.code] : 500;
}

/** One line, no stack: what docker clients print after "Error response from daemon:". */
export function errorMessageOf(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/\s*\n\s*/g, ' ').trim() || 'internal error';
}
