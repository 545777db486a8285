import type { Network } from './registry.js';

/** docker's filters for GET /networks and POST /networks/prune. */

function labelMatches(labels: Record<string, string>, wanted: string[]): boolean {
  return wanted.every((w) => {
    const [k, v] = w.split('=', 2);
    return k in labels && (v === undefined || labels[k] === v);
  });
}

export function matchFilters(n: Network, f: Record<string, string[]>, endpoints: number): boolean {
  const builtin = ['bridge', 'host', 'none'].includes(n.record.Name) && (n.isDefault || n.record.Driver !== 'bridge');
  if (f.driver && !f.driver.includes(n.record.Driver)) return false;
  if (f.id && !f.id.some((id) => n.record.Id.startsWith(id))) return false;
  if (f.name && !f.name.some((x) => n.record.Name.includes(x))) return false;
  if (f.label && !labelMatches(n.record.Labels, f.label)) return false;
  if (f.scope && !f.scope.includes(n.record.Scope)) return false;
  if (f.type && !f.type.includes(builtin ? 'builtin' : 'custom')) return false;
  if (f.dangling) {
    const want = f.dangling.some((v) => v === 'true' || v === '1');
    if (builtin || (endpoints === 0) !== want) return false;
  }
  return true;
}

export function matchPruneFilters(n: Network, f: Record<string, string[]>): boolean {
  if (f.label && !labelMatches(n.record.Labels, f.label)) return false;
  if (f['label!'] && f['label!'].some((w) => labelMatches(n.record.Labels, [w]))) return false;
  if (f.until && f.until.some((u) => new Date(n.record.Created).getTime() >= untilTime(u))) return false;
  return true;
}

function untilTime(u: string): number {
  const m = /^(\d+)(s|m|h)$/.exec(u);
  if (m) return Date.now() - Number(m[1]) * { s: 1e3, m: 6e4, h: 3.6e6 }[m[2] as 's' | 'm' | 'h'];
  const n = Number(u);
  return Number.isFinite(n) ? n * 1000 : new Date(u).getTime();
}
