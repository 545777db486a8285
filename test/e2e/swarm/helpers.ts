/** Helpers shared by the swarm tests: polling with a bound, and where a service's tasks run. */
import type { SwarmNode } from '../../fixtures/swarmhosts.js';

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 60_000, logs?: () => string): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}${last ? `: ${(last as Error).message}` : ''}\n${logs?.().slice(-3000) ?? ''}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** node hostname -> number of running tasks of a service (as a manager sees them). */
export async function placement(mgr: SwarmNode, service: string): Promise<Record<string, number>> {
  const out = await mgr.docker('service', 'ps', service, '--filter', 'desired-state=running', '--format', '{{.Node}} {{.CurrentState}}');
  const m: Record<string, number> = {};
  for (const line of out.split('\n').filter(Boolean)) {
    const [node, state] = line.split(' ');
    if (state === 'Running') m[node] = (m[node] ?? 0) + 1;
  }
  return m;
}

export const total = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);
