import { engineVersion, loadTlsMaterial } from '../client/tls.js';
import { InvalidArgumentError, reason } from './errors.js';
import { clientTlsPaths, engineServiceOf, engineUrl, loadMachine } from './machine.js';
import type { MachineState } from './state.js';
import type { Store } from './store/index.js';

/** One row of `machine ls`, the fields Docker Machine's templates know. */
export interface MachineRow {
  Name: string;
  Active: string;
  ActiveHost: boolean;
  DriverName: string;
  State: MachineState;
  URL: string;
  Swarm: string;
  DockerVersion: string;
  Error: string;
  ResponseTime: number;
  Labels: string[];
}

export interface LsFilters { driver: string[]; state: string[]; name: RegExp[]; label: string[] }

export function parseFilters(values: string[]): LsFilters {
  const f: LsFilters = { driver: [], state: [], name: [], label: [] };
  for (const v of values) {
    const i = v.indexOf('=');
    const key = v.slice(0, i).toLowerCase();
    const val = v.slice(i + 1);
    if (i < 1 || !val) throw new InvalidArgumentError(`bad filter "${v}"`, { hint: 'use --filter driver=NAME, state=STATE, name=REGEX or label=KEY=VALUE' });
    if (key === 'driver') f.driver.push(val.toLowerCase());
    else if (key === 'state') f.state.push(val.toLowerCase());
    else if (key === 'name') {
      try { f.name.push(new RegExp(val)); } catch { throw new InvalidArgumentError(`filter name=${val} is not a valid regular expression`); }
    } else if (key === 'label') f.label.push(val);
    else throw new InvalidArgumentError(`unknown filter "${key}"`, { hint: 'filters: driver, state, name, label' });
  }
  return f;
}

async function queryRow(store: Store, name: string, timeoutMs: number): Promise<MachineRow> {
  const row: MachineRow = { Name: name, Active: '-', ActiveHost: false, DriverName: '', State: 'Error', URL: '', Swarm: '', DockerVersion: 'Unknown', Error: '', ResponseTime: 0, Labels: [] };
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const work = (async () => {
    const m = await loadMachine(store, name);
    row.DriverName = m.host.DriverName;
    row.Labels = m.host.HostOptions.EngineOptions.Labels;
    row.State = await m.driver.state(engineServiceOf(m));
    if (row.State !== 'Running') return;
    const ip = await m.driver.ip();
    row.URL = engineUrl(ip, m.driver.enginePort());
    const tls = await loadTlsMaterial(clientTlsPaths(m.host));
    row.DockerVersion = `v${await engineVersion(ip, m.driver.enginePort(), tls, Math.max(500, timeoutMs - (Date.now() - started)))}`;
  })().catch((err) => { row.Error = reason(err); if (row.State === 'Running' || !row.DriverName) row.DockerVersion = 'Unknown'; });
  const timeout = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), timeoutMs); });
  const won = await Promise.race([work.then(() => 'done' as const), timeout]);
  clearTimeout(timer);
  row.ResponseTime = Date.now() - started;
  if (won === 'timeout') {
    row.State = 'Timeout';
    row.Error = `no answer within ${Math.round(timeoutMs / 1000)} s`;
  }
  const dockerHost = process.env.DOCKER_HOST ?? '';
  row.ActiveHost = row.State === 'Running' && row.URL !== '' && row.URL === dockerHost;
  row.Active = row.ActiveHost ? '*' : '-';
  return row;
}

/** Every machine queried in parallel, each bounded by `timeoutMs`. */
export async function listMachines(store: Store, filters: LsFilters, timeoutMs: number): Promise<MachineRow[]> {
  const names = (await store.list()).filter((n) => filters.name.length === 0 || filters.name.some((re) => re.test(n)));
  const rows = await Promise.all(names.map((n) => queryRow(store, n, timeoutMs)));
  return rows.filter((r) =>
    (filters.driver.length === 0 || filters.driver.includes(r.DriverName.toLowerCase())) &&
    (filters.state.length === 0 || filters.state.includes(r.State.toLowerCase())) &&
    filters.label.every((l) => r.Labels.includes(l)));
}

export const LS_COLUMNS: [string, keyof MachineRow][] = [
  ['NAME', 'Name'], ['ACTIVE', 'Active'], ['DRIVER', 'DriverName'], ['STATE', 'State'], ['URL', 'URL'],
  ['SWARM', 'Swarm'], ['DOCKER', 'DockerVersion'], ['ERRORS', 'Error'],
];

export function renderTable(rows: MachineRow[]): string {
  const table = [LS_COLUMNS.map(([h]) => h), ...rows.map((r) => LS_COLUMNS.map(([, k]) => String(r[k])))];
  const widths = LS_COLUMNS.map((_, i) => Math.max(...table.map((line) => line[i].length)));
  return table.map((line) => line.map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i] + 3))).join('').trimEnd()).join('\n') + '\n';
}

/** Go-template-like `{{.Field}}` rendering for --format (the fields of MachineRow). */
export function renderFormat(rows: MachineRow[], format: string): string {
  const fmt = format.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  return rows.map((r) => fmt.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_m, key: string) => {
    if (!(key in r)) throw new InvalidArgumentError(`--format: unknown field .${key}`, { hint: `fields: ${Object.keys(r).join(', ')}` });
    return String(r[key as keyof MachineRow]);
  })).join('\n') + '\n';
}

