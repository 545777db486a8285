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

/**
 * One line, no stack: what docker clients print after "Error response from daemon:".
 * The engine's own directories (`hidden`: data-root, exec-root) and cgroup paths are
 * host details: they are cut to what follows them.
 */
export function errorMessageOf(err: unknown, hidden: readonly string[] = []): string {
  let msg = err instanceof Error ? err.message : String(err);
  for (const dir of hidden) if (dir.length > 1) msg = msg.split(dir.replace(/\/+$/, '') + '/').join('');
  msg = msg.replace(/\/sys\/fs\/cgroup\/[^\s`'"]*/g, '(cgroup)').replace(/\/proc\/\d+\/root/g, '');
  return msg.replace(/\s*\n\s*/g, ' ').trim() || 'internal error';
}
