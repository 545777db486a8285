/** Helpers shared by the swarm tests: the hosts, polling with a bound, and where a service's tasks run. */
import { api } from '../../fixtures/daemon.js';
import { requireDockerCli } from '../../fixtures/docker-cli.js';
import { buildImage, dockerArchive, requireBusybox } from '../../fixtures/images.js';
import { startSwarmHosts, type SwarmHosts, type SwarmNode } from '../../fixtures/swarmhosts.js';

/** `count` namespace hosts running berthd, each with busybox:latest loaded. */
export async function hostsWithBusybox(count: number): Promise<SwarmHosts> {
  requireDockerCli();
  requireBusybox();
  const sw = await startSwarmHosts(count);
  const tar = await dockerArchive([{ image: await buildImage(), repoTags: ['busybox:latest'] }]);
  await Promise.all(sw.nodes.map(async (n) => {
    const r = await api(n, 'POST', '/images/load?quiet=1', tar);
    if (r.status !== 200) throw new Error(`load on ${n.name}: ${r.body}`);
  }));
  return sw;
}

/** `swarm init` on the first node; the others join it as workers. */
export async function formSwarm([mgr, ...workers]: SwarmNode[]): Promise<void> {
  await mgr.docker('swarm', 'init', '--advertise-addr', mgr.ip);
  const token = await mgr.docker('swarm', 'join-token', '-q', 'worker');
  for (const w of workers) await w.docker('swarm', 'join', '--token', token, `${mgr.ip}:2377`);
}

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
