/**
 * The leader's control loop: desired state (services, nodes) against actual state
 * (tasks), one pass at a time, driven by store watches and a 2 s tick.
 *
 * A slot (replicated) or a node (global) gets a new task only when none of its
 * tasks may still have a container: every task in it is terminal, or sits on a node
 * whose heartbeat lease has lapsed. Writes are compare-and-set on the etcd revision;
 * a conflict ends the pass and the next one starts from fresh reads.
 */
import { log } from '../log.js';
import { isTerminal, newId, nowIso, stateRank } from './spec.js';
import { eligibleNodes, mayKeep, pickNode, spreadPreferences } from './scheduler.js';
import type { Obj, Store } from './store.js';
import { type NetState, attachmentsFor, ensureEndpoint, readNetState, sweepIpam } from './netorch.js';

const TICK_MS = 2000;

export class Orchestrator {
  private timer?: NodeJS.Timeout;
  private closeWatch?: () => Promise<void>;
  private busy = false;
  private again = false;
  private stopped = false;

  constructor(private readonly store: Store, private readonly nodeId: string) {}

  async start(): Promise<void> {
    this.closeWatch = await this.store.watch(['services', 'tasks', 'nodes', 'alive', 'cluster', 'networks'], () => this.kick());
    this.timer = setInterval(() => this.kick(), TICK_MS);
    this.timer.unref();
    this.kick();
    log.info(`swarm: node ${this.nodeId} is the leader; orchestrator started`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.closeWatch?.();
  }

  kick(): void {
    if (this.stopped) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    void this.reconcile()
      .catch((err) => log.debug(`swarm orchestrator: ${(err as Error).message}`))
      .finally(() => {
        this.busy = false;
        if (this.again) {
          this.again = false;
          setTimeout(() => this.kick(), 50);
        }
      });
  }

  async reconcile(): Promise<void> {
    // addresses first: what the sweep frees must be older than the tasks and services read below
    const net = await readNetState(this.store);
    const [nodes, aliveObjs, services, taskObjs, cluster] = await Promise.all([
      this.store.list<any>('nodes'), this.store.list('alive'), this.store.list<any>('services'), this.store.list<any>('tasks'), this.store.get<any>('cluster', 'swarm'),
    ]);
    const alive = new Set(aliveObjs.map((a) => a.id));
    const nodeById = new Map(nodes.map((n) => [n.id, n]));
    const serviceById = new Map(services.map((s) => [s.id, s]));
    const history = cluster?.value.Spec.Orchestration?.TaskHistoryRetentionLimit ?? 5;
    const put = (t: Obj<any>, change: Record<string, unknown>) => this.store.update('tasks', t.id, { ...t.value, ...change, UpdatedAt: nowIso() }, t.version);
    // A task whose container may still exist (its node might still run it).
    const occupying = (t: any) => !isTerminal(t.Status.State) && Boolean(t.NodeID) && alive.has(t.NodeID);

    // Assignments made in this pass count in the next pick, so unassigned tasks spread.
    const taskValues = taskObjs.map((x) => x.value);
    for (const t of taskObjs) {
      const v = t.value;
      const svc = serviceById.get(v.ServiceID);
      if (!svc) {
        if (!occupying(v)) await this.store.delete('tasks', t.id, t.version);
        else if (v.DesiredState !== 'remove') await put(t, { DesiredState: 'remove' });
        continue;
      }
      if (v.DesiredState !== 'running') continue;
      const constraints = svc.value.Spec.TaskTemplate.Placement?.Constraints ?? [];
      if (isTerminal(v.Status.State)) await put(t, { DesiredState: 'shutdown' });
      else if (v.NodeID && !mayKeep(nodeById.get(v.NodeID), alive, constraints)) {
        const why = !alive.has(v.NodeID) ? 'node is down' : 'node is drained or no longer meets the constraints';
        await put(t, { DesiredState: 'shutdown', Status: { ...v.Status, Message: `${v.Status.Message}; ${why}` } });
      } else if (!v.NodeID) {
        const target = pickNode(eligibleNodes(nodes, alive, constraints), taskValues, v.ServiceID, spreadPreferences(svc.value.Spec.TaskTemplate.Placement));
        if (target) {
          await put(t, { NodeID: target.id, Status: { Timestamp: nowIso(), State: 'assigned', Message: 'scheduler assigned task to node' } });
          v.NodeID = target.id;
        }
      }
    }

    // From here on, work from what the first pass left (fresh reads).
    const tasks = await this.store.list<any>('tasks');
    await sweepIpam(this.store, net, taskObjs, services, nodes);
    for (const svc of services) {
      if (await ensureEndpoint(this.store, svc, services, net)) continue; // written: the next pass goes on with it
      await this.reconcileService(svc, tasks.filter((t) => t.value.ServiceID === svc.id), nodes, alive, occupying, history, net);
    }
  }

  private async reconcileService(svc: Obj<any>, tasks: Obj<any>[], nodes: Obj[], alive: Set<string>, occupying: (t: any) => boolean, history: number, net: NetState): Promise<void> {
    const spec = svc.value.Spec;
    const constraints: string[] = spec.TaskTemplate.Placement?.Constraints ?? [];
    const template = JSON.stringify(spec.TaskTemplate);
    const outdated = (t: any) => JSON.stringify(t.Spec) !== template;
    const allTasks = tasks.map((t) => t.value);
    const groups = new Map<string, Obj<any>[]>();
    const slotKey = (t: any) => (spec.Mode.Global ? t.NodeID : String(t.Slot));
    for (const t of tasks) {
      const k = slotKey(t.value);
      groups.set(k, [...(groups.get(k) ?? []), t]);
    }

    let wanted: string[];
    // global: every node that may keep a task (a paused node keeps its task, takes no new one)
    if (spec.Mode.Global) wanted = nodes.filter((n) => mayKeep(n, alive, constraints)).map((n) => n.id);
    else wanted = Array.from({ length: spec.Mode.Replicated.Replicas }, (_, i) => String(i + 1));
    const wantedSet = new Set(wanted);

    // scale down / node gone: stop every live task of slots no longer wanted
    for (const [k, ts] of groups) {
      if (wantedSet.has(k)) continue;
      for (const t of ts) if (t.value.DesiredState === 'running') await this.store.update('tasks', t.id, { ...t.value, DesiredState: spec.Mode.Global ? 'shutdown' : 'remove', UpdatedAt: nowIso() }, t.version);
    }

    // rolling update bookkeeping
    const update = spec.UpdateConfig ?? {};
    const rollingBack = svc.value.UpdateStatus?.State === 'rollback_started';
    const cfg = rollingBack ? spec.RollbackConfig ?? update : update;
    const parallelism = cfg.Parallelism || Infinity;
    const inUpdate = svc.value.UpdateStatus?.State === 'updating' || rollingBack;
    if (inUpdate) {
      const started = Date.parse(svc.value.UpdateStatus.StartedAt);
      const failed = updateFailure(tasks, (t) => !outdated(t), started, update, wanted.length);
      if (failed && !rollingBack && update.FailureAction === 'rollback' && svc.value.PreviousSpec) {
        await this.store.update('services', svc.id, {
          ...svc.value, Spec: svc.value.PreviousSpec, PreviousSpec: spec, UpdatedAt: nowIso(),
          UpdateStatus: { State: 'rollback_started', StartedAt: nowIso(), Message: `update rolled back due to failure or early termination of task ${failed.id}` },
        }, svc.version);
        return;
      }
      if (failed && !rollingBack && update.FailureAction !== 'continue') {
        await this.store.update('services', svc.id, { ...svc.value, UpdateStatus: { ...svc.value.UpdateStatus, State: 'paused', Message: `update paused due to failure or early termination of task ${failed.id}` } }, svc.version);
        return;
      }
    }
    let updating = 0;
    let pendingOld = 0;
    const creates: [string, unknown][] = [];

    const startFirst = cfg.Order === 'start-first';
    for (const k of wanted) {
      const ts = (groups.get(k) ?? []).sort((a, b) => a.value.CreatedAt.localeCompare(b.value.CreatedAt));
      const live = ts.filter((t) => t.value.DesiredState === 'running' && !isTerminal(t.value.Status.State));
      const current = live[live.length - 1];
      // a global service's node takes a new task only while active
      const nodeActive = !spec.Mode.Global || nodes.find((n) => n.id === k)?.value.Spec.Availability === 'active';
      // start-first: the old task runs on until its replacement does
      const replacementStarting = startFirst && current && !outdated(current.value) && stateRank(current.value.Status.State) < stateRank('running');
      if (live.length > 1 && !replacementStarting) {
        for (const t of live.slice(0, -1)) await this.store.update('tasks', t.id, { ...t.value, DesiredState: 'shutdown', UpdatedAt: nowIso() }, t.version);
      }
      if (current) {
        if (!outdated(current.value)) {
          if (stateRank(current.value.Status.State) < stateRank('running')) updating++;
          continue;
        }
        if (svc.value.UpdateStatus?.State === 'paused') continue;
        pendingOld++;
        if (updating >= parallelism) continue;
        updating++;
        if (!startFirst || !nodeActive) {
          await this.store.update('tasks', current.id, { ...current.value, DesiredState: 'shutdown', UpdatedAt: nowIso() }, current.version);
          continue;
        }
      } else {
        // nothing live: may a new task start here? Not while an old container may still run
        // (and a slot in that state counts against the update's parallelism).
        if (ts.some((t) => occupying(t.value))) {
          updating++;
          continue;
        }
        const last = ts[ts.length - 1]?.value;
        if (last && !this.restartAllowed(spec, last, ts)) continue;
        if (!nodeActive) continue;
        if (inUpdate) updating++;
      }
      const target = spec.Mode.Global ? nodes.find((n) => n.id === k) : pickNode(eligibleNodes(nodes, alive, constraints), allTasks, svc.id, spreadPreferences(spec.TaskTemplate.Placement));
      const id = newId();
      const now = nowIso();
      const attachments = await attachmentsFor(this.store, id, spec, net);
      const task = {
        ID: id, CreatedAt: now, UpdatedAt: now, Labels: {}, Spec: spec.TaskTemplate, ServiceID: svc.id, ServiceName: spec.Name,
        ...(attachments.length ? { NetworksAttachments: attachments } : {}), Endpoint: svc.value.Endpoint,
        Slot: spec.Mode.Global ? 0 : Number(k), NodeID: target?.id ?? '',
        Status: target
          ? { Timestamp: now, State: 'assigned', Message: 'scheduler assigned task to node' }
          : { Timestamp: now, State: 'pending', Message: 'pending task scheduling', Err: `no suitable node (${constraints.length ? 'scheduling constraints not satisfied on any node' : 'no node is ready and active'})` },
        DesiredState: 'running',
      };
      allTasks.push(task);
      creates.push([id, task]);
    }

    await this.store.createMany('tasks', creates);

    // history: keep the newest `history` dead tasks per slot
    for (const ts of groups.values()) {
      const dead = ts.filter((t) => t.value.DesiredState !== 'running' && !occupying(t.value)).sort((a, b) => b.value.CreatedAt.localeCompare(a.value.CreatedAt));
      for (const t of dead.slice(Math.max(history, 0))) await this.store.delete('tasks', t.id, t.version);
    }

    if (inUpdate && pendingOld === 0 && updating === 0) {
      await this.store.update('services', svc.id, {
        ...svc.value,
        UpdateStatus: { ...svc.value.UpdateStatus, State: rollingBack ? 'rollback_completed' : 'completed', CompletedAt: nowIso(), Message: rollingBack ? 'rollback completed' : 'update completed' },
      }, svc.version);
    }
  }

  private restartAllowed(spec: any, last: any, slotTasks: Obj<any>[]): boolean {
    // replaced on purpose (update, node down, drain, scale): always
    if (last.Status.State === 'shutdown' || stateRank(last.Status.State) <= stateRank('running')) return true;
    const policy = spec.TaskTemplate.RestartPolicy ?? {};
    const condition = policy.Condition ?? 'any';
    if (condition === 'none') return false;
    if (condition === 'on-failure' && last.Status.State === 'complete') return false;
    if (policy.MaxAttempts) {
      const failures = slotTasks.filter((t) => ['failed', 'rejected', 'complete'].includes(t.value.Status.State)).length;
      if (failures >= policy.MaxAttempts) return false;
    }
    const delayMs = (policy.Delay ?? 5_000_000_000) / 1e6;
    return Date.now() - Date.parse(last.Status.Timestamp) >= delayMs;
  }
}

/**
 * The new task whose failure stops an update, if any: tasks of the new spec created
 * since the update started that failed within the Monitor window (from their
 * creation) count, and stop it once failures / slots exceed MaxFailureRatio.
 */
export function updateFailure(tasks: Obj<any>[], isNew: (t: any) => boolean, startedAt: number, cfg: { Monitor?: number; MaxFailureRatio?: number }, slots: number): Obj<any> | undefined {
  const monitorMs = (cfg.Monitor || 5_000_000_000) / 1e6;
  const failed = tasks.filter((t) => isNew(t.value) && ['failed', 'rejected'].includes(t.value.Status.State)
    && Date.parse(t.value.CreatedAt) >= startedAt && Date.parse(t.value.Status.Timestamp) - Date.parse(t.value.CreatedAt) <= monitorMs);
  if (!failed.length) return undefined;
  return failed.length / Math.max(slots, 1) > (cfg.MaxFailureRatio ?? 0) ? failed[0] : undefined;
}
