import { DOCKER_FUNCS, parseTemplate, TemplateError } from '../common/gotemplate.js';

/**
 * Output the way the docker CLI prints it: tab-aligned tables (min width 10, padding
 * 3), short ids, "2 minutes ago", decimal sizes ("4.2MB"), and --format: Go templates
 * (src/common/gotemplate.ts), a "table " prefix for a header row, and "json" for one
 * JSON object per line.
 */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

export function table(headers: string[], rows: string[][], minWidth = 10): string {
  const all = [headers, ...rows];
  // No trimming: like Go's tabwriter, an empty last cell leaves the padding of the one before it.
  const widths = headers.map((_, c) => Math.max(minWidth, ...all.map((r) => (r[c] ?? '').length + 3)));
  return all.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : (cell ?? '').padEnd(widths[c]))).join('') + '\n').join('');
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** docker's units.HumanSizeWithPrecision: decimal units, 3 significant digits unless told. */
export function humanSize(bytes: number, precision = 3): string {
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  return `${Number(v.toPrecision(precision))}${UNITS[u]}`;
}

/** docker's units.HumanDuration, e.g. "About a minute", "3 hours". */
export function humanDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.round(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.round(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.round(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.round(h / 24 / 30)} months`;
  return `${Math.round(h / 24 / 365)} years`;
}

const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** docker's units.BytesSize: binary units, 4 significant digits ("7.617GiB"). */
export function bytesSize(bytes: number): string {
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < BINARY.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number(v.toPrecision(4))}${BINARY[u]}`;
}

export function ago(unixSeconds: number, now = Date.now()): string {
  return `${humanDuration(now - unixSeconds * 1000)} ago`;
}

export class FormatError extends Error {}

/**
 * Renders one Go template for one value (Go's text/template and docker's functions:
 * json, join, upper, …). The API's JSON is read as maps: a field it left out prints
 * "<no value>"; an unknown function or bad syntax is a FormatError.
 */
export function renderTemplate(tpl: string, value: unknown): string {
  try {
    return parseTemplate(tpl.replace(/\\t/g, '\t').replace(/\\n/g, '\n'), DOCKER_FUNCS, { lenient: true }).execute(value);
  } catch (err) {
    if (err instanceof TemplateError) throw new FormatError(err.message);
    throw err;
  }
}

/** --format for lists: "json", "table", "table {{…}}", or a template per row. */
export function renderList<T extends object>(format: string | undefined, rows: T[], defaultTable: () => string, headerOf: (field: string) => string = (f) => f.toUpperCase()): string {
  if (!format || format === 'table') return defaultTable();
  if (format === 'json') return rows.map((r) => JSON.stringify(r) + '\n').join('');
  if (format.startsWith('table ')) {
    const tpl = format.slice(6);
    const cols = tpl.replace(/\\t/g, '\t').split('\t');
    const headers = cols.map((c) => c.replace(/\{\{\s*\.?([\w.]*)\s*\}\}/g, (_, f: string) => headerOf(f)).replace(/\{\{\s*json\s+\.\s*\}\}/, 'JSON'));
    return table(headers, rows.map((r) => cols.map((c) => renderTemplate(c, r))));
  }
  return rows.map((r) => renderTemplate(format, r) + '\n').join('');
}
