/** Helpers for docker's query-string conventions. */
import { InvalidArgumentError } from '../errors.js';

/** docker treats "1", "true", "True" as true; absent -> fallback. */
export function queryBool(q: URLSearchParams, name: string, fallback = false): boolean {
  const v = q.get(name);
  if (v === null || v === '') return fallback;
  return !['0', 'false', 'False', 'FALSE', 'no'].includes(v);
}

export function queryInt(q: URLSearchParams, name: string, fallback?: number): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`query parameter ${name}=${v}: expected an integer`);
  return n;
}

/**
 * The `filters` parameter: JSON of map[string][]string, or the legacy
 * map[string]map[string]bool form. Returns key -> values.
 */
export function queryFilters(q: URLSearchParams, name = 'filters'): Record<string, string[]> {
  const raw = q.get(name);
  if (!raw) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new InvalidArgumentError(`invalid filter ${raw}: expected JSON like {"label":["a=b"]}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError(`invalid filter ${raw}: expected a JSON object`);
  }
  const out: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (Array.isArray(value)) out[key] = value.map(String);
    else if (value && typeof value === 'object') out[key] = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k]);
    else throw new InvalidArgumentError(`invalid filter ${key}: expected a list of values`);
  }
  return out;
}

/** Checks filter keys against the ones an endpoint supports, like docker does. */
export function checkFilterKeys(filters: Record<string, string[]>, allowed: readonly string[]): void {
  for (const key of Object.keys(filters)) {
    if (!allowed.includes(key)) throw new InvalidArgumentError(`invalid filter '${key}'`);
  }
}
