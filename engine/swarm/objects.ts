/**
 * Swarm objects as the Engine API shows them, read from and written to the store:
 * nodes, services, tasks, secrets, configs. Lookups take an id, a unique id prefix
 * or a name, as docker's do. Runs on managers only.
 */
import { randomBytes } from 'node:crypto';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../errors.js';
import { seal } from './seal.js';
import { newId, nowIso, version, isTerminal } from './spec.js';
import type { Obj, Store, Kind } from './store.js';
import { resolveServiceNetworks } from './netalloc.js';
import { checkPortConflicts, validateEndpointSpec } from './netorch.js';

export interface Liveness {
  alive: Set<string>;
  leader?: string;
  /** Node ids of the started etcd members (a manager's member that runs). */
  members?: Set<string>;
}

// ---- lookups ----

export async function find(store: Store, kind: Kind, ref: string, nameOf: (v: any) => string, what: string): Promise<Obj> {
  const all = await store.list<any>(kind);
  const exact = all.find((o) => o.id === ref) ?? all.find((o) => nameOf(o.value) === ref);
  if (exact) return exact;
  const byPrefix = all.filter((o) => o.id.startsWith(ref));
  if (byPrefix.length === 1 && ref.length > 0) return byPrefix[0];
  if (byPrefix.length > 1) throw new InvalidArgumentError(`${what} ${ref} is ambiguous (${byPrefix.length} matches found)`);
  throw new NotFoundError(`${what} ${ref} not found`);
}

function labelMatch(labels: Record<string, string> | undefined, filters: string[] | undefined): boolean {
  if (!filters?.length) return true;
  return filters.every((f) => {
    const [k, ...v] = f.split('=');
    if (!labels || !(k in labels)) return false;
    return v.length === 0 || labels[k] === v.join('=');
  });
}

const anyOf = (vals: string[] | undefined, pred: (v: string) => boolean) => !vals?.length || vals.some(pred);

// ---- nodes ----

export function nodeView(o: Obj, live: Liveness, tls?: unknown): any {
  const n = o.value;
  const up = live.alive.has(o.id);
  const view: any = {
    ID: o.id, Version: version(o.version), CreatedAt: n.CreatedAt, UpdatedAt: n.UpdatedAt,
    Spec: n.Spec, Description: { ...n.Description, ...(tls ? { TLSInfo: tls } : {}) },
    Status: { State: up ? 'ready' : 'down', Addr: n.Addr, ...(up ? {} : { Message: 'heartbeat failure' }) },
  };
  if (n.Spec.Role === 'manager') {
    const member = live.members?.has(o.id) ?? true;
    view.ManagerStatus = { Leader: live.leader === o.id, Reachability: up && member ? 'reachable' : 'unreachable', Addr: `${n.Addr}:${n.Port ?? 2377}` };
  }
  return view;
}

export function nodeFilter(filters: Record<string, string[]>, live: Liveness) {
  return (o: Obj) => {
    const n = o.value;
    return anyOf(filters.id, (v) => o.id.startsWith(v))
      && anyOf(filters.name, (v) => n.Description?.Hostname?.includes(v))
      && anyOf(filters.role, (v) => n.Spec.Role === v)
      && anyOf(filters.membership, (v) => v === 'accepted')
      && labelMatch(n.Description?.Engine?.Labels, filters.label)
      && labelMatch(n.Spec.Labels, filters['node.label'])
      && anyOf(filters.node, (v) => o.id.startsWith(v) || n.Description?.Hostname === v)
      && (live.alive.size >= 0);
  };
}

export async function findNode(store: Store, ref: string): Promise<Obj> {
  return find(store, 'nodes', ref, (v) => v.Description?.Hostname, 'node');
}

export async function updateNode(store: Store, ref: string, ver: number, spec: any): Promise<void> {
  const o = await findNode(store, ref);
  if (!spec || typeof spec !== 'object') throw new InvalidArgumentError('node update needs a NodeSpec body');
  const role = spec.Role ?? o.value.Spec.Role;
  const availability = spec.Availability ?? o.value.Spec.Availability;
  if (!['manager', 'worker'].includes(role)) throw new InvalidArgumentError(`invalid role ${role}: use manager or worker`);
  if (!['active', 'pause', 'drain'].includes(availability)) throw new InvalidArgumentError(`invalid availability ${availability}: use active, pause or drain`);
  const value = { ...o.value, Spec: { Labels: spec.Labels ?? {}, Role: role, Availability: availability, ...(spec.Name ? { Name: spec.Name } : {}) }, UpdatedAt: nowIso() };
  await store.update('nodes', o.id, value, ver);
}

// ---- services ----

export function validateServiceSpec(spec: any): void {
  if (!spec || typeof spec !== 'object') throw new InvalidArgumentError('service create needs a ServiceSpec body');
  const image = spec.TaskTemplate?.ContainerSpec?.Image;
  if (!image) throw new InvalidArgumentError('ContainerSpec: image reference must be provided');
  if (spec.Name && !/^[a-zA-Z0-9](?:[a-zA-Z0-9-_.]*[a-zA-Z0-9])?$/.test(spec.Name)) {
    throw new InvalidArgumentError(`invalid name ${spec.Name}: valid characters are a-z, A-Z, 0-9, -, _ and . (not at either end)`);
  }
  const mode = spec.Mode ?? {};
  if (mode.Replicated && mode.Global) throw new InvalidArgumentError('a service is either replicated or global, not both');
  if (mode.Replicated?.Replicas !== undefined && (!Number.isInteger(mode.Replicated.Replicas) || mode.Replicated.Replicas < 0)) {
    throw new InvalidArgumentError(`invalid replicas ${mode.Replicated.Replicas}: a number >= 0`);
  }
  for (const c of spec.TaskTemplate?.Placement?.Constraints ?? []) parseConstraint(c);
  for (const p of spec.TaskTemplate?.Placement?.Preferences ?? []) {
    const d = p?.Spread?.SpreadDescriptor;
    if (typeof d !== 'string' || !/^(node|engine)\.labels\.[^.\s]/.test(d)) {
      throw new InvalidArgumentError(`invalid placement preference ${JSON.stringify(p)}: use spread=node.labels.NAME or spread=engine.labels.NAME`);
    }
  }
  for (const [what, c] of [['update', spec.UpdateConfig], ['rollback', spec.RollbackConfig]] as const) {
    if (c?.Order && !['stop-first', 'start-first'].includes(c.Order)) throw new InvalidArgumentError(`invalid ${what} order ${c.Order}: use stop-first or start-first`);
    if (c?.MaxFailureRatio !== undefined && !(c.MaxFailureRatio >= 0 && c.MaxFailureRatio <= 1)) throw new InvalidArgumentError(`invalid ${what} max failure ratio ${c.MaxFailureRatio}: a number from 0 to 1`);
  }
  validateEndpointSpec(spec);
}

export function normalizeServiceSpec(spec: any): any {
  const out = { ...spec, Labels: spec.Labels ?? {} };
  out.Name = spec.Name || `svc_${randomBytes(4).toString('hex')}`;
  out.Mode = spec.Mode?.Global ? { Global: {} } : { Replicated: { Replicas: spec.Mode?.Replicated?.Replicas ?? 1 } };
  out.TaskTemplate = { ...spec.TaskTemplate, ForceUpdate: spec.TaskTemplate.ForceUpdate ?? 0, Runtime: 'container' };
  out.UpdateConfig = { Parallelism: 1, FailureAction: 'pause', Monitor: 5_000_000_000, MaxFailureRatio: 0, Order: 'stop-first', ...(spec.UpdateConfig ?? {}) };
  out.RollbackConfig = { Parallelism: 1, FailureAction: 'pause', Monitor: 5_000_000_000, MaxFailureRatio: 0, Order: 'stop-first', ...(spec.RollbackConfig ?? {}) };
  out.EndpointSpec = spec.EndpointSpec ?? { Mode: 'vip' };
  return out;
}

export function serviceView(o: Obj, status?: { running: number; desired: number; completed: number }): any {
  const s = o.value;
  const v: any = {
    ID: o.id, Version: version(o.version), CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt, Spec: s.Spec,
    Endpoint: { Spec: s.Spec.EndpointSpec ?? { Mode: 'vip' }, ...(s.Endpoint?.Ports ? { Ports: s.Endpoint.Ports } : {}), ...(s.Endpoint?.VirtualIPs ? { VirtualIPs: s.Endpoint.VirtualIPs } : {}) },
  };
  if (s.PreviousSpec) v.PreviousSpec = s.PreviousSpec;
  if (s.UpdateStatus) v.UpdateStatus = s.UpdateStatus;
  if (status) v.ServiceStatus = { RunningTasks: status.running, DesiredTasks: status.desired, CompletedTasks: status.completed };
  return v;
}

export async function findService(store: Store, ref: string): Promise<Obj> {
  return find(store, 'services', ref, (v) => v.Spec.Name, 'service');
}

export async function createService(store: Store, spec: any): Promise<string> {
  validateServiceSpec(spec);
  const norm = normalizeServiceSpec(await resolveServiceNetworks(store, spec));
  const all = await store.list<any>('services');
  checkPortConflicts(norm, undefined, all);
  if (all.some((o) => o.value.Spec.Name === norm.Name)) throw new ConflictError(`rpc error: code = AlreadyExists desc = name conflicts with an existing object: service ${norm.Name} already exists`);
  const id = newId();
  const now = nowIso();
  await store.create('services', id, { ID: id, CreatedAt: now, UpdatedAt: now, Spec: norm });
  return id;
}

export async function updateService(store: Store, ref: string, ver: number, spec: any, rollback: boolean): Promise<void> {
  const o = await findService(store, ref);
  let next: any;
  if (rollback) {
    if (!o.value.PreviousSpec) throw new InvalidArgumentError(`service ${o.value.Spec.Name} has no previous spec to roll back to`);
    next = o.value.PreviousSpec;
  } else {
    validateServiceSpec(spec);
    next = normalizeServiceSpec(await resolveServiceNetworks(store, { ...spec, Name: spec.Name || o.value.Spec.Name }));
    checkPortConflicts(next, o.id, await store.list<any>('services'));
    if (next.Name !== o.value.Spec.Name) throw new InvalidArgumentError('a service cannot be renamed');
  }
  const changesTasks = JSON.stringify(next.TaskTemplate) !== JSON.stringify(o.value.Spec.TaskTemplate);
  const value = {
    ...o.value, Spec: next, PreviousSpec: o.value.Spec, UpdatedAt: nowIso(),
    ...(changesTasks ? { UpdateStatus: { State: rollback ? 'rollback_started' : 'updating', StartedAt: nowIso(), Message: rollback ? 'manually requested rollback' : 'update in progress' } } : {}),
  };
  await store.update('services', o.id, value, ver);
}

export function serviceFilter(filters: Record<string, string[]>) {
  return (o: Obj) => {
    const s = o.value.Spec;
    return anyOf(filters.id, (v) => o.id.startsWith(v))
      && anyOf(filters.name, (v) => s.Name.startsWith(v))
      && anyOf(filters.mode, (v) => (v === 'global' ? Boolean(s.Mode.Global) : Boolean(s.Mode.Replicated)))
      && labelMatch(s.Labels, filters.label);
  };
}

// ---- tasks ----

export function taskView(o: Obj): any {
  const { ServiceVersion: _sv, ServiceName: _sn, ...t } = o.value;
  return { ...t, ID: o.id, Version: version(o.version) };
}

export function taskFilter(filters: Record<string, string[]>, services: Map<string, any>, nodeIds: Map<string, string>) {
  return (o: Obj) => {
    const t = o.value;
    const svc = services.get(t.ServiceID);
    const svcName: string = svc?.Spec.Name ?? '';
    // the CLI's progress display asks for tasks made from the current spec
    const upToDate = Boolean(svc) && JSON.stringify(t.Spec) === JSON.stringify(svc.Spec.TaskTemplate);
    return anyOf(filters.id, (v) => o.id.startsWith(v))
      && anyOf(filters.service, (v) => t.ServiceID === v || t.ServiceID.startsWith(v) || svcName === v)
      && anyOf(filters.node, (v) => t.NodeID === v || (t.NodeID && t.NodeID.startsWith(v)) || nodeIds.get(t.NodeID) === v)
      && anyOf(filters.name, (v) => `${svcName}.${t.Slot || t.NodeID}`.startsWith(v))
      && anyOf(filters['desired-state'], (v) => t.DesiredState === v || (v === 'running' && t.DesiredState === 'running') || (v === 'shutdown' && t.DesiredState !== 'running') || (v === 'accepted' && t.DesiredState === 'accepted'))
      && anyOf(filters['_up-to-date'], (v) => (v === 'true' || v === '1') === upToDate)
      && (labelMatch(t.Labels, filters.label) || labelMatch(svc?.Spec.Labels, filters.label));
  };
}

export function serviceStatus(serviceObj: Obj, tasks: Obj[], eligibleNodes: number): { running: number; desired: number; completed: number } {
  const own = tasks.filter((t) => t.value.ServiceID === serviceObj.id);
  const running = own.filter((t) => t.value.Status.State === 'running' && t.value.DesiredState === 'running').length;
  const completed = own.filter((t) => t.value.Status.State === 'complete').length;
  const mode = serviceObj.value.Spec.Mode;
  const desired = mode.Global ? eligibleNodes : mode.Replicated.Replicas;
  return { running, desired, completed };
}

export const liveTask = (t: any) => t.DesiredState === 'running' && !isTerminal(t.Status.State);

// ---- secrets and configs ----

export function secretView(o: Obj, kind: 'secrets' | 'configs'): any {
  const s = o.value;
  const spec = kind === 'configs' ? { ...s.Spec, Data: s.Data } : s.Spec;
  return { ID: o.id, Version: version(o.version), CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt, Spec: spec };
}

export async function createSecretOrConfig(store: Store, kind: 'secrets' | 'configs', spec: any, dataKey: Buffer): Promise<string> {
  const what = kind === 'secrets' ? 'secret' : 'config';
  if (!spec?.Name) throw new InvalidArgumentError(`${what} create needs a Name`);
  if (typeof spec.Data !== 'string') throw new InvalidArgumentError(`${what} ${spec.Name}: Data (base64) is required`);
  const data = Buffer.from(spec.Data, 'base64');
  if (data.length > 500 * 1024) throw new InvalidArgumentError(`${what} ${spec.Name} is larger than 500 KiB`);
  const all = await store.list<any>(kind);
  if (all.some((o) => o.value.Spec.Name === spec.Name)) throw new ConflictError(`rpc error: code = AlreadyExists desc = ${what} ${spec.Name} already exists`);
  const id = newId();
  const now = nowIso();
  const value: any = { ID: id, CreatedAt: now, UpdatedAt: now, Spec: { Name: spec.Name, Labels: spec.Labels ?? {}, ...(spec.Templating ? { Templating: spec.Templating } : {}) } };
  if (kind === 'secrets') value.Sealed = seal(dataKey, data);
  else value.Data = data.toString('base64');
  await store.create(kind, id, value);
  return id;
}

export function secretFilter(filters: Record<string, string[]>) {
  return (o: Obj) => anyOf(filters.id, (v) => o.id.startsWith(v)) && anyOf(filters.name, (v) => o.value.Spec.Name.startsWith(v)) && labelMatch(o.value.Spec.Labels, filters.label);
}

/** Services whose tasks reference a secret or config by id. */
export function referencedBy(services: Obj[], kind: 'secrets' | 'configs', id: string): string[] {
  const field = kind === 'secrets' ? 'Secrets' : 'Configs';
  const key = kind === 'secrets' ? 'SecretID' : 'ConfigID';
  return services.filter((s) => (s.value.Spec.TaskTemplate.ContainerSpec[field] ?? []).some((r: any) => r[key] === id)).map((s) => s.value.Spec.Name);
}

// ---- placement constraints ----

export interface Constraint { key: string; op: '==' | '!='; value: string }

export function parseConstraint(c: string): Constraint {
  const m = /^\s*([\w.\-]+)\s*(==|!=)\s*(.+?)\s*$/.exec(c);
  if (!m) throw new InvalidArgumentError(`invalid constraint ${c}: expected KEY==VALUE or KEY!=VALUE (node.role, node.hostname, node.id, node.labels.NAME, engine.labels.NAME)`);
  const key = m[1].toLowerCase().startsWith('node.labels.') || m[1].toLowerCase().startsWith('engine.labels.') ? m[1] : m[1].toLowerCase();
  if (!/^(node\.(id|hostname|role|platform\.os|platform\.arch)|node\.labels\..+|engine\.labels\..+)$/.test(key)) {
    throw new InvalidArgumentError(`invalid constraint ${c}: unknown key ${m[1]} (node.role, node.hostname, node.id, node.platform.os, node.platform.arch, node.labels.NAME, engine.labels.NAME)`);
  }
  return { key, op: m[2] as '==' | '!=', value: m[3] };
}

export function nodeMatches(node: any, id: string, constraints: string[]): boolean {
  return constraints.map(parseConstraint).every((c) => {
    let actual: string | undefined;
    if (c.key === 'node.id') actual = id;
    else if (c.key === 'node.hostname') actual = node.Description?.Hostname;
    else if (c.key === 'node.role') actual = node.Spec.Role;
    else if (c.key === 'node.platform.os') actual = node.Description?.Platform?.OS;
    else if (c.key === 'node.platform.arch') actual = node.Description?.Platform?.Architecture;
    else if (c.key.startsWith('node.labels.')) actual = node.Spec.Labels?.[c.key.slice('node.labels.'.length)];
    else actual = parseEngineLabels(node.Description?.Engine?.Labels)[c.key.slice('engine.labels.'.length)];
    const eq = actual !== undefined && actual.toLowerCase() === c.value.toLowerCase();
    return c.op === '==' ? eq : !eq;
  });
}

function parseEngineLabels(l: Record<string, string> | undefined): Record<string, string> {
  return l ?? {};
}
