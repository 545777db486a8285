/** GET /containers/json filters, docker's semantics. */
import { InvalidArgumentError } from '../errors.js';
import type { ContainerRecord } from './record.js';

export type Filters = Record<string, string[]>;

const KNOWN = new Set(['id', 'name', 'label', 'status', 'ancestor', 'exited', 'before', 'since', 'volume', 'network', 'health', 'is-task', 'publish', 'expose']);
const STATUSES = new Set(['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']);

function labelMatches(labels: Record<string, string>, expr: string): boolean {
  const eq = expr.indexOf('=');
  if (eq < 0) return expr in labels;
  return labels[expr.slice(0, eq)] === expr.slice(eq + 1);
}

export function makeFilter(filters: Filters, find: (ref: string) => ContainerRecord | undefined, healthOf: (rec: ContainerRecord) => string, imageMatches: (rec: ContainerRecord, ref: string) => boolean): (rec: ContainerRecord) => boolean {
  for (const k of Object.keys(filters)) if (!KNOWN.has(k)) throw new InvalidArgumentError(`invalid filter '${k}'`);
  for (const s of filters.status ?? []) if (!STATUSES.has(s)) throw new InvalidArgumentError(`invalid filter 'status=${s}': use one of created, restarting, running, removing, paused, exited, dead`);
  for (const e of filters.exited ?? []) if (!/^-?\d+$/.test(e)) throw new InvalidArgumentError(`invalid filter 'exited=${e}': must be an integer`);
  const before = filters.before?.map((r) => find(r) ?? (() => { throw new InvalidArgumentError(`No such container: ${r}`); })());
  const since = filters.since?.map((r) => find(r) ?? (() => { throw new InvalidArgumentError(`No such container: ${r}`); })());
  return (rec) => {
    if (filters.id && !filters.id.some((p) => rec.id.startsWith(p))) return false;
    if (filters.name && !filters.name.some((p) => new RegExp(p.replace(/^\//, '')).test(rec.name))) return false;
    if (filters.label && !filters.label.every((l) => labelMatches(rec.config.Labels ?? {}, l))) return false;
    if (filters.status && !filters.status.includes(rec.state.status)) return false;
    if (filters.exited) {
      if (rec.state.status !== 'exited') return false;
      const code = rec.state.exitCode;
      if (!filters.exited.some((e) => Number(e) === code)) return false;
    }
    if (filters.ancestor && !filters.ancestor.some((a) => imageMatches(rec, a))) return false;
    if (before && !before.every((b) => Date.parse(rec.created) < Date.parse(b.created))) return false;
    if (since && !since.every((s) => Date.parse(rec.created) > Date.parse(s.created))) return false;
    if (filters.health && !filters.health.includes(healthOf(rec))) return false;
    if (filters.volume && !filters.volume.some((v) => rec.mounts.some((m) => m.name === v || m.source === v || m.target === v))) return false;
    if (filters.network && !filters.network.some((n) => rec.hostConfig.NetworkMode === n || Object.keys((rec.networkSettings.Networks as Record<string, unknown>) ?? {}).includes(n))) return false;
    return true;
  };
}
