/**
 * Swarm mode: the contract the API routes and /info use, and its construction.
 *
 * Every method of a node outside a swarm fails with docker's texts (503): the
 * manager API with "This node is not a swarm manager. Use \"docker swarm init\"...",
 * leave with "This node is not part of a swarm". See docs/swarm.md for the design.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine, Service } from '../engine.js';
import type { Readable } from 'node:stream';
import type { TaskLogQuery } from './logs.js';

export type { TaskLogQuery };

export type SecretKind = 'secrets' | 'configs';

export interface Swarm extends Service {
  localState(): 'inactive' | 'active';
  role(): 'manager' | 'worker' | undefined;
  /** The Swarm object of GET /info. */
  info(): Promise<any>;

  init(req: any): Promise<string>;
  join(req: any): Promise<void>;
  leave(force: boolean): Promise<void>;
  inspect(): Promise<any>;
  update(version: number, spec: any, flags: { rotateWorkerToken: boolean; rotateManagerToken: boolean; rotateManagerUnlockKey: boolean }): Promise<void>;

  listNodes(filters: Record<string, string[]>): Promise<any[]>;
  inspectNode(ref: string): Promise<any>;
  updateNode(ref: string, version: number, spec: any): Promise<void>;
  removeNode(ref: string, force: boolean): Promise<void>;

  createService(spec: any): Promise<{ ID: string; Warnings?: string[] }>;
  listServices(filters: Record<string, string[]>, status: boolean): Promise<any[]>;
  inspectService(ref: string): Promise<any>;
  updateService(ref: string, version: number, spec: any, rollback: boolean): Promise<{ Warnings: string[] }>;
  removeService(ref: string): Promise<void>;

  listTasks(filters: Record<string, string[]>): Promise<any[]>;
  inspectTask(ref: string): Promise<any>;
  /** GET /services/{id}/logs and /tasks/{id}/logs: frames (raw for a TTY service), across nodes. */
  logs(kind: 'service' | 'task', ref: string, q: TaskLogQuery, signal: AbortSignal): Promise<{ tty: boolean; stream: Readable }>;

  createSecret(kind: SecretKind, spec: any): Promise<{ ID: string }>;
  listSecrets(kind: SecretKind, filters: Record<string, string[]>): Promise<any[]>;
  inspectSecret(kind: SecretKind, ref: string): Promise<any>;
  updateSecret(kind: SecretKind, ref: string, version: number, spec: any): Promise<void>;
  removeSecret(kind: SecretKind, ref: string): Promise<void>;

  /** Swarm networks: undefined when this node is not a manager (lists and lookups stay local). */
  listNetworks(): Promise<any[] | undefined>;
  inspectNetwork(ref: string): Promise<any | undefined>;
  createNetwork(req: any): Promise<{ Id: string; Warning: string }>;
  removeNetwork(ref: string): Promise<void>;
}

/** Builds the swarm service and resumes a membership left by the previous run. */
export async function createSwarm(engine: Engine): Promise<Swarm> {
  // swarm/state.ts's file: without it this node is in no swarm (LocalStore.load).
  if (!existsSync(join(engine.config.dataRoot, 'swarm', 'state.json'))) return lazySwarm(engine);
  return openSwarm(engine);
}

async function openSwarm(engine: Engine): Promise<Swarm> {
  const { SwarmService } = await import('./service.js');
  const swarm = new SwarmService(engine);
  await swarm.open();
  return swarm;
}

/**
 * Outside a swarm, swarm mode's code (CA, etcd, orchestrator: a few MB of an idle
 * engine's memory) loads at the first call that needs it; until then a node is
 * inactive, as SwarmService says of itself with no state.
 */
function lazySwarm(engine: Engine): Swarm {
  let loading: Promise<Swarm> | undefined;
  let loaded: Swarm | undefined;
  const load = () => (loading ??= openSwarm(engine).then((s) => (loaded = s)));
  const idle: Partial<Swarm> = {
    localState: () => loaded?.localState() ?? 'inactive',
    role: () => loaded?.role(),
    info: () => (loaded ?? { info: async () => ({ NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null }) }).info(),
    shutdown: async () => { if (loading) await (await loading).shutdown?.(); },
    // An inactive node is no manager: its networks are all local.
    listNetworks: async () => loaded?.listNetworks(),
    inspectNetwork: async (ref) => loaded?.inspectNetwork(ref),
  };
  return new Proxy(idle as Swarm, {
    get(target, prop) {
      if (prop in target) return target[prop as keyof Swarm];
      if (typeof prop !== 'string' || prop === 'then') return undefined; // not a thenable
      return async (...args: unknown[]) => ((await load()) as unknown as Record<string, (...a: unknown[]) => unknown>)[prop](...args);
    },
  });
}
