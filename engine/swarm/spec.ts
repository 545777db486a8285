/** Defaults docker fills into swarm, node and service specs, and the shared JSON shapes. */
export const NOT_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
export const WORKER_NOT_MANAGER = "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.";
export const NO_SWARM = 'This node is not part of a swarm';
export const SWARM_EXISTS = 'This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and join another one.';

export function defaultSwarmSpec(spec: any = {}): any {
  return {
    Name: 'default',
    Labels: spec.Labels ?? {},
    Orchestration: { TaskHistoryRetentionLimit: spec.Orchestration?.TaskHistoryRetentionLimit ?? 5 },
    Raft: { SnapshotInterval: 10000, KeepOldSnapshots: 0, LogEntriesForSlowFollowers: 500, ElectionTick: 10, HeartbeatTick: 1, ...(spec.Raft ?? {}) },
    Dispatcher: { HeartbeatPeriod: 5_000_000_000, ...(spec.Dispatcher ?? {}) },
    CAConfig: { NodeCertExpiry: 7_776_000_000_000_000, ...(spec.CAConfig ?? {}) },
    TaskDefaults: spec.TaskDefaults ?? {},
    EncryptionConfig: { AutoLockManagers: false, ...(spec.EncryptionConfig ?? {}) },
  };
}

export const nowIso = () => new Date().toISOString();

export const version = (index: number) => ({ Index: index });

/** Task states in docker's order; a task only moves forward. */
export const TASK_STATES = ['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running', 'complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned'] as const;
export type TaskState = (typeof TASK_STATES)[number];
export const stateRank = (s: string) => TASK_STATES.indexOf(s as TaskState);
export const isTerminal = (s: string) => stateRank(s) > stateRank('running');

export function newId(): string {
  // swarmkit ids: 25 chars of base 36
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n.toString(36).padStart(25, '0').slice(-25);
}
