/**
 * Placement: the nodes a task may go to (ready, availability active, constraints
 * met) and, among them, spread: fewest live tasks of the same service, then fewest
 * live tasks overall, then node id. Pure functions over store snapshots.
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

export function pickNode(candidates: Obj[], tasks: any[], serviceId: string): Obj | undefined {
  const load = new Map<string, { same: number; all: number }>();
  for (const t of tasks) {
    if (!t.NodeID || t.DesiredState !== 'running' || isTerminal(t.Status.State)) continue;
    const l = load.get(t.NodeID) ?? { same: 0, all: 0 };
    l.all++;
    if (t.ServiceID === serviceId) l.same++;
    load.set(t.NodeID, l);
  }
  const key = (n: Obj) => load.get(n.id) ?? { same: 0, all: 0 };
  return [...candidates].sort((a, b) => key(a).same - key(b).same || key(a).all - key(b).all || a.id.localeCompare(b.id))[0];
}
