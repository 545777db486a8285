import { DOCKER_FUNCS, parseTemplate, TemplateError } from '../../common/gotemplate.js';
import { MachineError, MachineNotFoundError, UnreachableError } from '../errors.js';
import { listMachines, parseFilters, renderLs } from '../ls.js';
import { clientTlsPaths, engineServiceOf, engineUrl, loadMachine, requireRunning } from '../machine.js';
import { detectShell, machineVars, noProxyVar, renderEnv, UNSET_VARS, type EnvVars } from '../shell-env.js';
import type { Store } from '../store/index.js';
import { checkTls } from '../tls-check.js';
import { printJson } from './report.js';

/**
 * The read-only machine commands (ls, env, ip, url, config, inspect, status, active)
 * without oclif: the oclif commands and bin/berth's fast path (./fast.ts) both run
 * these with flags already parsed.
 */
export interface QueryInput {
  /** Machine names given (none: the command's default). */
  args: string[];
  flags: Record<string, any>;
  store: Store;
  /** How the user runs berth, for the hints printed (`berth`). */
  bin: string;
}

const log = (line: string) => process.stdout.write(line + '\n');
const nameOf = (args: string[]) => args[0] ?? 'default';

async function ls({ flags, store }: QueryInput): Promise<void> {
  if (flags.format) renderLs([], flags.format); // a template that does not parse fails before any host is asked
  const rows = await listMachines(store, parseFilters(flags.filter ?? []), flags.timeout * 1000);
  const out = flags.json ? JSON.stringify(rows, null, 2) + '\n'
    : flags.quiet ? rows.map((r) => r.Name + '\n').join('')
      : renderLs(rows, flags.format);
  // A host that timed out may still hold a pending dial: don't wait for it, the answer is out.
  if (rows.some((r) => r.State === 'Timeout')) process.stdout.write(out, () => process.exit(0));
  else process.stdout.write(out);
}

async function env({ args, flags, store, bin: berth }: QueryInput): Promise<void> {
  const shell = detectShell(flags.shell);
  const bin = `${berth} machine env`;
  const shellFlag = flags.shell ? ` --shell ${flags.shell}` : '';
  if (flags.unset) {
    if (args[0]) throw new MachineError('Expected no machine name when the -u flag is present', { hint: `${bin} -u` });
    const vars: EnvVars = UNSET_VARS.map((k) => [k, '']);
    if (flags['no-proxy']) vars.push([noProxyVar('')[0], '']);
    process.stdout.write(renderEnv(shell, vars, true, `${bin}${shellFlag} -u`));
    return;
  }
  const name = nameOf(args);
  const m = await loadMachine(store, name);
  await requireRunning(m).catch((err: MachineError) => {
    throw new UnreachableError(`Error checking TLS connection: ${err.message}`, { hint: err.hint });
  });
  await checkTls(store, m);
  const ip = await m.driver.ip();
  const vars = machineVars(name, engineUrl(ip, m.driver.enginePort()), clientTlsPaths(m.host).dir);
  if (flags['no-proxy']) vars.push(noProxyVar(ip));
  process.stdout.write(renderEnv(shell, vars, false, `${bin}${shellFlag}${flags['no-proxy'] ? ' --no-proxy' : ''} ${name}`));
}

async function ip({ args, store }: QueryInput): Promise<void> {
  for (const n of args.length ? args : ['default']) {
    const m = await loadMachine(store, n);
    await requireRunning(m);
    log(await m.driver.ip());
  }
}

async function url({ args, store }: QueryInput): Promise<void> {
  const m = await loadMachine(store, nameOf(args));
  await requireRunning(m);
  log(engineUrl(await m.driver.ip(), m.driver.enginePort()));
}

async function config({ args, flags, store }: QueryInput): Promise<void> {
  const m = await loadMachine(store, nameOf(args));
  await requireRunning(m);
  const tls = clientTlsPaths(m.host);
  const host = engineUrl(await m.driver.ip(), m.driver.enginePort());
  if (flags.json) return printJson({ tlsverify: true, tlscacert: tls.ca, tlscert: tls.cert, tlskey: tls.key, host });
  log(`--tlsverify\n--tlscacert="${tls.ca}"\n--tlscert="${tls.cert}"\n--tlskey="${tls.key}"\n-H=${host}`);
}

async function inspect({ args, flags, store }: QueryInput): Promise<void> {
  const { host } = await loadMachine(store, nameOf(args));
  // As docker-machine inspect: JSON indented by four spaces, or the Go template and a newline.
  if (!flags.format) return void process.stdout.write(JSON.stringify(host, null, 4) + '\n');
  let out: string;
  try {
    out = parseTemplate(flags.format, DOCKER_FUNCS).execute(host);
  } catch (err) {
    if (err instanceof TemplateError) throw new MachineError(`--format: ${err.message}`);
    throw err;
  }
  process.stdout.write(out + '\n');
}

async function status({ args, flags, store }: QueryInput): Promise<void> {
  const name = nameOf(args);
  const m = await loadMachine(store, name);
  const state = await m.driver.state(engineServiceOf(m));
  if (flags.json) printJson({ Name: name, State: state });
  else log(state);
}

async function active({ flags, store }: QueryInput): Promise<void> {
  if (!process.env.DOCKER_HOST) throw new MachineNotFoundError('no active host: DOCKER_HOST is not set', { hint: 'eval $(berth machine env NAME)' });
  const rows = await listMachines(store, parseFilters([]), flags.timeout * 1000);
  const found = rows.find((r) => r.ActiveHost);
  if (!found) throw new MachineNotFoundError(`no running machine has the URL ${process.env.DOCKER_HOST}`);
  log(found.Name);
}

export const QUERIES = { ls, env, ip, url, config, inspect, status, active } satisfies Record<string, (q: QueryInput) => Promise<void>>;
export type QueryName = keyof typeof QUERIES;
