import { UsageError } from './argv.js';

/** `--filter k=v` options as the API's filters JSON ({"k":{"v":true}}), or undefined for none. */
export function filtersQuery(list: string[] | undefined, extra: Record<string, string[]> = {}): string | undefined {
  const filters: Record<string, Record<string, boolean>> = {};
  for (const f of list ?? []) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new UsageError(`bad format of filter "${f}": expected name=value`);
    (filters[f.slice(0, eq)] ??= {})[f.slice(eq + 1)] = true;
  }
  for (const [k, vs] of Object.entries(extra)) for (const v of vs) (filters[k] ??= {})[v] = true;
  return Object.keys(filters).length ? JSON.stringify(filters) : undefined;
}

/** `--label k=v` / `-o k=v` options as a map. */
export function keyValues(list: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list ?? []) {
    const eq = kv.indexOf('=');
    out[eq < 0 ? kv : kv.slice(0, eq)] = eq < 0 ? '' : kv.slice(eq + 1);
  }
  return out;
}
