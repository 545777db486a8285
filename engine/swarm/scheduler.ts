/**
 * Placement: the nodes a task may go to (ready, availability active, constraints
 * met) and, among them, spread: placement preferences (spread over a label's values),
 * then fewest live tasks of the same service, then fewest live tasks overall, then
 * node id. Pure functions over store snapshots.
 */
import { nodeMatches } from './objects.js';
import { isTerminal } from './spec.js';
import type { Obj } from './store.js';

export function eligibleNodes(nodes: Obj[], alive: Set<string>, constraints: string[]): Obj[] {
  return nodes.filter((n) => alive.has(n.id) && n.value.Spec.Availability === 'active' && nodeMatches(n.value, n.id, constraints));
}

/** Nodes where a task may keep running (pause keeps, drain and unmet constraints evict). */
export function mayKeep(node: Obj | undefined, alive: Set<string>, constraints: string[]): boolean {
  return Boolean(node && alive.has(node.id) && node.value.Spec.Availability !== 'drain' && nodeMatches(node.value, node.id, constraints));
}

/** The value a spread preference groups a node by (docker: node.labels.X or engine.labels.X; no label = its own group). */
function spreadValue(n: Obj, descriptor: string): string {
  if (descriptor.startsWith('node.labels.')) return n.value.Spec.Labels?.[descriptor.slice('node.labels.'.length)] ?? '';
  if (descriptor.startsWith('engine.labels.')) return n.value.Description?.Engine?.Labels?.[descriptor.slice('engine.labels.'.length)] ?? '';
  return '';
}

/** Spread descriptors of a TaskTemplate's Placement.Preferences, in order. */
export function spreadPreferences(placement: any): string[] {
  return (placement?.Preferences ?? []).map((p: any) => p?.Spread?.SpreadDescriptor).filter(Boolean);
}

/**
 * The node for a new task: placement preferences first (each one narrows the
 * candidates to the label value with the fewest live tasks of the service, in turn),
 * then fewest live tasks of the service, fewest live tasks, node id.
 */
export function pickNode(candidates: Obj[], tasks: any[], serviceId: string, preferences: string[] = []): Obj | undefined {
  const load = new Map<string, { same: number; all: number }>();
  for (const t of tasks) {
    if (!t.NodeID || t.DesiredState !== 'running' || isTerminal(t.Status.State)) continue;
    const l = load.get(t.NodeID) ?? { same: 0, all: 0 };
    l.all++;
    if (t.ServiceID === serviceId) l.same++;
    load.set(t.NodeID, l);
  }
  const key = (n: Obj) => load.get(n.id) ?? { same: 0, all: 0 };
  let pool = candidates;
  for (const d of preferences) {
    const groups = new Map<string, Obj[]>();
    for (const n of pool) groups.set(spreadValue(n, d), [...(groups.get(spreadValue(n, d)) ?? []), n]);
    const count = (g: Obj[]) => g.reduce((sum, n) => sum + key(n).same, 0);
    pool = [...groups.entries()].sort(([va, a], [vb, b]) => count(a) - count(b) || va.localeCompare(vb))[0]?.[1] ?? [];
  }
  return [...pool].sort((a, b) => key(a).same - key(b).same || key(a).all - key(b).all || a.id.localeCompare(b.id))[0];
}
