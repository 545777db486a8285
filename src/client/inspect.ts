import type { OptionTable } from './argv.js';
import { EngineApiError, type EngineClient } from './engine.js';
import { renderTemplate } from './format.js';
import { goMap } from '../common/gotemplate.js';

/** Fields the engine types declare as Go maps: printed "map[k:v]" by {{.Labels}}, not as a struct "{v}". */
const MAP_FIELDS = new Set(['Labels', 'Options', 'DriverOpts', 'Containers', 'Networks', 'ExposedPorts', 'Volumes', 'Ports', 'Annotations', 'AuxiliaryAddresses', 'Tmpfs', 'Sysctls', 'StorageOpt', 'Data', 'Status', 'Config']);

/** Marks the map-typed fields of an inspect value for the template engine. */
export function markMaps(v: unknown, key = ''): unknown {
  if (Array.isArray(v)) v.forEach((x) => markMaps(x));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) markMaps(x, k);
    // Config is a map only under LogConfig (elsewhere a struct): its values are strings.
    if (MAP_FIELDS.has(key) && (key !== 'Config' || Object.values(v).every((x) => typeof x === 'string'))) goMap(v);
  }
  return v;
}

/** `X inspect` (network, volume): each name's JSON, printed as a JSON array (indent 4) or through --format. */
export const INSPECT_OPTIONS = {
  format: { kind: 'string', char: 'f', description: 'a template like "{{.Name}}", or json', value: 'FORMAT' },
} as const satisfies OptionTable;

export function inspectOutput(values: unknown[], format: string | undefined): string {
  if (format && format !== 'json') return values.map((v) => renderTemplate(format, markMaps(v)) + '\n').join('');
  return JSON.stringify(values, null, 4) + '\n';
}

/** Fetches each name; missing ones are reported through `err`; returns the exit status and output. */
export async function inspectAll(client: EngineClient, names: string[], path: (n: string) => string, kind: string, format: string | undefined, err: (s: string) => void): Promise<{ code: number; text: string }> {
  const found: unknown[] = [];
  let failed = 0;
  for (const n of names) {
    try {
      found.push(await client.json('GET', path(n)));
    } catch (e) {
      if (!(e instanceof EngineApiError && e.status === 404)) throw e;
      err(`berth: no such ${kind}: ${n}\n`);
      failed++;
    }
  }
  return { code: failed ? 1 : 0, text: found.length || !failed ? inspectOutput(found, format) : '' };
}
