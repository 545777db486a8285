/**
 * Output the way the docker CLI prints it: tab-aligned tables (min width 10, padding
 * 3), short ids, "2 minutes ago", decimal sizes ("4.2MB"), and a small subset of Go
 * templates for --format: {{.Field}}, {{.A.B}}, {{json .}}, {{json .Field}},
 * a "table " prefix for a header row, and "json" for one JSON object per line.
 */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

export function table(headers: string[], rows: string[][]): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, c) => Math.max(10, ...all.map((r) => (r[c] ?? '').length + 3)));
  return all.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : (cell ?? '').padEnd(widths[c]))).join('').trimEnd() + '\n').join('');
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** docker's units.HumanSize: decimal units, 3 significant digits. */
export function humanSize(bytes: number): string {
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  return `${Number(v.toPrecision(3))}${UNITS[u]}`;
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

export function ago(unixSeconds: number, now = Date.now()): string {
  return `${humanDuration(now - unixSeconds * 1000)} ago`;
}

function lookup(value: unknown, path: string): unknown {
  let v = value as any;
  for (const key of path.split('.').filter(Boolean)) v = v == null ? undefined : v[key];
  return v;
}

function show(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (Array.isArray(v)) return `[${v.map(show).join(' ')}]`;
  if (typeof v === 'object') return `map[${Object.entries(v as object).map(([k, x]) => `${k}:${show(x)}`).join(' ')}]`;
  return String(v);
}

export class FormatError extends Error {}

/** Renders one Go-template-like format for one value. */
export function renderTemplate(tpl: string, value: unknown): string {
  const text = tpl.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  return text.replace(/\{\{\s*(.*?)\s*\}\}/g, (_, expr: string) => {
    let m = /^json\s+\.([\w.]*)$/.exec(expr);
    if (m) return JSON.stringify(lookup(value, m[1]) ?? null);
    m = /^\.([\w.]*)$/.exec(expr);
    if (m) return show(lookup(value, m[1]));
    throw new FormatError(`template: unsupported expression {{${expr}}}: berth supports {{.Field}}, {{.A.B}}, {{json .}} and {{json .Field}}`);
  });
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
