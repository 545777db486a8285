import { engineVersion, loadTlsMaterial } from '../client/tls.js';
import { DOCKER_FUNCS, parseTemplate, goMap, tabwrite, TemplateError } from '../common/gotemplate.js';
import { InvalidArgumentError, MachineError, reason } from './errors.js';
import { clientTlsPaths, engineServiceOf, engineUrl, machineOf } from './machine.js';
import { MACHINE_STATES, type MachineState } from './state.js';
import type { Store } from './store/index.js';
import type { EngineOptions, HostConfig, HostOptions } from './store/host.js';

/** One row of `machine ls`: Docker Machine's HostListItem, field for field and in its order. */
export interface MachineRow {
  Name: string;
  Active: string;
  ActiveHost: boolean;
  ActiveSwarm: boolean;
  DriverName: string;
  State: MachineState;
  URL: string;
  SwarmOptions: HostOptions['SwarmOptions'] | null;
  Swarm: string;
  EngineOptions: EngineOptions | null;
  Error: string;
  DockerVersion: string;
  /** Milliseconds (a Go duration in templates). */
  ResponseTime: number;
}

export interface LsFilters { swarm: string[]; driver: string[]; state: string[]; name: RegExp[]; label: string[] }

/** Docker Machine's filters and messages: swarm=, driver=, state=, name= (regex), label=KEY=VALUE. */
export function parseFilters(values: string[]): LsFilters {
  const f: LsFilters = { swarm: [], driver: [], state: [], name: [], label: [] };
  for (const v of values) {
    const i = v.indexOf('=');
    if (i < 0) throw new InvalidArgumentError('Unsupported filter syntax', { hint: 'use --filter KEY=VALUE with swarm, driver, state, name or label' });
    const key = v.slice(0, i).toLowerCase();
    const val = v.slice(i + 1);
    if (key === 'swarm') f.swarm.push(val);
    else if (key === 'driver') f.driver.push(val);
    else if (key === 'state') f.state.push(val);
    else if (key === 'name') {
      try { f.name.push(new RegExp(val)); } catch { throw new InvalidArgumentError(`filter name=${val} is not a valid regular expression`); }
    } else if (key === 'label') f.label.push(val);
    else throw new InvalidArgumentError(`Unsupported filter key '${key}'`, { hint: 'filters: swarm, driver, state, name, label' });
  }
  return f;
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function emptyRow(name: string): MachineRow {
  return { Name: name, Active: '-', ActiveHost: false, ActiveSwarm: false, DriverName: '', State: 'Error', URL: '', SwarmOptions: null, Swarm: '', EngineOptions: null, Error: '', DockerVersion: 'Unknown', ResponseTime: 0 };
}

async function queryRow(store: Store, host: HostConfig, timeoutMs: number): Promise<MachineRow> {
  const row = emptyRow(host.Name);
  row.DriverName = host.DriverName;
  row.SwarmOptions = host.HostOptions.SwarmOptions ?? null;
  row.EngineOptions = host.HostOptions.EngineOptions ?? null;
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const work = (async () => {
    const m = await machineOf(store, host);
    row.State = await m.driver.state(engineServiceOf(m));
    if (row.State !== 'Running') return;
    const ip = await m.driver.ip();
    row.URL = engineUrl(ip, m.driver.enginePort());
    const tls = await loadTlsMaterial(clientTlsPaths(m.host));
    row.DockerVersion = `v${await engineVersion(ip, m.driver.enginePort(), tls, Math.max(500, timeoutMs - (Date.now() - started)))}`;
  })().catch((err) => {
    row.Error = reason(err);
    if (err instanceof MachineError && err.code === 'not_supported') row.State = 'Error';
  });
  const timeout = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), timeoutMs); });
  const won = await Promise.race([work.then(() => 'done' as const), timeout]);
  clearTimeout(timer);
  row.ResponseTime = Date.now() - started;
  if (won === 'timeout') {
    // As Docker Machine: only the name, the driver and the state.
    return { ...emptyRow(host.Name), Active: '', DriverName: host.DriverName, State: 'Timeout', DockerVersion: '', SwarmOptions: row.SwarmOptions, EngineOptions: row.EngineOptions, ResponseTime: timeoutMs };
  }
  row.ActiveHost = row.State === 'Running' && row.URL !== '' && row.URL === (process.env.DOCKER_HOST ?? '');
  row.Active = row.ActiveHost ? '*' : '-';
  return row;
}

/** A machine whose config.json cannot be read, as Docker Machine lists it. */
function rowInError(name: string, err: unknown): MachineRow {
  return { ...emptyRow(name), Active: '', DriverName: 'not found', DockerVersion: '', Error: reason(err).replace(/\n/g, '') };
}

/** Docker Machine's order: natural sort of the lower-cased names (m2 before m10). */
export function naturalCompare(a: string, b: string): number {
  const chunks = (s: string) => s.toLowerCase().match(/\d+|\D+/g) ?? [];
  const x = chunks(a);
  const y = chunks(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] === y[i]) continue;
    const nx = /^\d/.test(x[i]);
    const ny = /^\d/.test(y[i]);
    if (nx && ny) return Number(x[i]) - Number(y[i]) || x[i].length - y[i].length;
    return x[i] < y[i] ? -1 : 1;
  }
  return x.length - y.length;
}

/** The swarm master of each discovery URL, for the SWARM column and --filter swarm=. */
function swarmMasters(hosts: HostConfig[]): Map<string, string> {
  const masters = new Map<string, string>();
  for (const h of hosts) {
    const s = h.HostOptions.SwarmOptions;
    if (s?.Master && s.Discovery) masters.set(s.Discovery, h.Name);
  }
  return masters;
}

function labelsMatch(host: HostConfig, wanted: string[]): boolean {
  if (wanted.length === 0) return true;
  const labels = new Map((host.HostOptions.EngineOptions.Labels ?? []).map((l) => [l.split('=')[0], l.slice(l.indexOf('=') + 1)] as const));
  return wanted.some((w) => {
    const [k, v = ''] = [w.split('=')[0], w.includes('=') ? w.slice(w.indexOf('=') + 1) : ''];
    return labels.has(k) && same(labels.get(k)!, v);
  });
}

/** Every machine queried in parallel, each bounded by `timeoutMs`; filtered and ordered as Docker Machine does. */
export async function listMachines(store: Store, filters: LsFilters, timeoutMs: number): Promise<MachineRow[]> {
  const hosts: HostConfig[] = [];
  const broken: MachineRow[] = [];
  for (const n of await store.list()) {
    await store.load(n).then((h) => { hosts.push(h); }, (err) => { broken.push(rowInError(n, err)); });
  }
  const masters = swarmMasters(hosts);
  const masterOf = (h: HostConfig) => masters.get(h.HostOptions.SwarmOptions?.Discovery ?? '') ?? '';
  const kept = hosts.filter((h) =>
    (filters.swarm.length === 0 || filters.swarm.some((s) => same(s, masterOf(h)))) &&
    (filters.driver.length === 0 || filters.driver.some((d) => same(d, h.DriverName))) &&
    (filters.name.length === 0 || filters.name.some((re) => re.test(h.Name))) &&
    labelsMatch(h, filters.label));
  const rows = await Promise.all(kept.map((h) => queryRow(store, h, timeoutMs)));
  for (const [i, r] of rows.entries()) {
    const s = kept[i].HostOptions.SwarmOptions;
    if (s?.Discovery) r.Swarm = `${masterOf(kept[i])}${s.Master ? ' (master)' : ''}`;
  }
  const anyFilter = Object.values(filters).some((v) => v.length > 0);
  return [...rows.filter((r) => filters.state.length === 0 || filters.state.some((s) => same(s, r.State))), ...(anyFilter ? [] : broken)]
    .sort((a, b) => naturalCompare(a.Name, b.Name));
}

export const LS_DEFAULT_FORMAT = 'table {{ .Name }}\t{{ .Active }}\t{{ .DriverName}}\t{{ .State }}\t{{ .URL }}\t{{ .Swarm }}\t{{ .DockerVersion }}\t{{ .Error}}';

const LS_HEADERS = goMap({
  Name: 'NAME', Active: 'ACTIVE', ActiveHost: 'ACTIVE_HOST', ActiveSwarm: 'ACTIVE_SWARM', DriverName: 'DRIVER', State: 'STATE', URL: 'URL',
  SwarmOptions: 'SWARM_OPTIONS', Swarm: 'SWARM', EngineOptions: 'ENGINE_OPTIONS', Error: 'ERRORS', DockerVersion: 'DOCKER', ResponseTime: 'RESPONSE',
});

/** A Go enum (libmachine's state.State): prints its name, marshals as its number. */
class GoState {
  constructor(private readonly name: MachineState) {}
  toString(): string { return this.name; }
  toJSON(): number { return MACHINE_STATES.indexOf(this.name) + 1; }
}

/** A Go time.Duration: prints as "152ms" or "1.5s", marshals as nanoseconds. */
export class GoDuration {
  constructor(private readonly ms: number) {}
  toString(): string {
    const ms = Math.round(this.ms);
    if (ms === 0) return '0s';
    if (ms < 1000) return `${ms}ms`;
    const m = Math.floor(ms / 60_000);
    const h = Math.floor(m / 60);
    const sec = `${(ms % 60_000) / 1000}s`;
    return h ? `${h}h${m % 60}m${sec}` : m ? `${m}m${sec}` : sec;
  }
  toJSON(): number { return Math.round(this.ms) * 1e6; }
}

/**
 * `ls` output through one Go template, as Docker Machine prints it: the default is the
 * table; a `table` prefix adds the header row (from the same template run over the
 * column names) and aligns with Go's tabwriter (minwidth 5, padding 3).
 */
export function renderLs(rows: MachineRow[], format = LS_DEFAULT_FORMAT): string {
  let text = format || LS_DEFAULT_FORMAT;
  const table = text.startsWith('table');
  if (table) text = text.slice('table'.length);
  text = text.replace(/^ +| +$/g, '').replace(/\\t/g, '\t').replace(/\\n/g, '\n') + '\n';
  let tpl;
  let out = '';
  try {
    tpl = parseTemplate(text, DOCKER_FUNCS);
    if (table) out += tpl.execute(LS_HEADERS);
    for (const r of rows) out += tpl.execute({ ...r, State: new GoState(r.State), ResponseTime: new GoDuration(r.ResponseTime) });
  } catch (err) {
    // Exit 1, as Docker Machine's failed template.
    if (err instanceof TemplateError) throw new MachineError(`--format: ${err.message}`, { hint: `fields: ${Object.keys(LS_HEADERS).join(', ')}` });
    throw err;
  }
  return table ? tabwrite(out, 5, 3) : out;
}
