/**
 * berthd configuration: dockerd's flag names and daemon.json keys, merged as
 * defaults < --config-file < command-line flags.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { InvalidArgumentError } from './errors.js';
import { isLogLevel, type LogLevel } from './log.js';

export type StorageDriver = 'overlay2' | 'vfs';

export interface DaemonConfig {
  hosts: string[];
  tls: boolean;
  tlsVerify: boolean;
  tlsCaCert?: string;
  tlsCert?: string;
  tlsKey?: string;
  dataRoot: string;
  execRoot: string;
  pidfile: string;
  /** undefined = choose: overlay2 when the kernel has overlayfs, else vfs. */
  storageDriver?: StorageDriver;
  /** berth-runtime by default; crun/runc or any runc-compatible binary by path. */
  runtime?: string;
  labels: string[];
  logLevel: LogLevel;
  insecureRegistries: string[];
  registryMirrors: string[];
  /** Default bridge interface (--bridge); the networks service picks berth0 when unset. */
  bridge?: string;
  /** Default bridge address with prefix (--bip). */
  bip?: string;
  /** --default-address-pools entries, "base=CIDR,size=N". */
  defaultAddressPools: string[];
  /** --ipv6: the default bridge has IPv6, from --fixed-cidr-v6 or the IPv6 pool. */
  ipv6?: boolean;
  fixedCidrV6?: string;
  /** --dns: containers' name servers when they name none. */
  dns: string[];
  /** --mtu: the MTU of bridge networks (default: the host's default route's). */
  mtu?: number;
  /** --default-ulimit NAME=SOFT[:HARD]: ulimits of containers that do not set that one. */
  defaultUlimits: { Name: string; Soft: number; Hard: number }[];
  /** --log-driver / --log-opt: the LogConfig of containers that set none. */
  logDriver: 'json-file' | 'none';
  logOpts: Record<string, string>;
  /** Largest build context accepted (bytes, uncompressed); --build-context-max. */
  buildContextMax?: number;
  /** Largest JSON request body the API reads (--max-request-body); undefined = the router's default. */
  maxRequestBody?: number;
}

const LOG_DRIVERS = ['json-file', 'none'];
const LOG_OPTS = ['max-size', 'max-file'];

export const DEFAULT_DATA_ROOT = '/var/lib/berth';
export const DEFAULT_EXEC_ROOT = '/run/berth';

const FLAGS = {
  host: { type: 'string', short: 'H', multiple: true },
  tls: { type: 'boolean' },
  tlsverify: { type: 'boolean' },
  tlscacert: { type: 'string' },
  tlscert: { type: 'string' },
  tlskey: { type: 'string' },
  'data-root': { type: 'string' },
  'exec-root': { type: 'string' },
  pidfile: { type: 'string', short: 'p' },
  'storage-driver': { type: 'string', short: 's' },
  runtime: { type: 'string' },
  'config-file': { type: 'string' },
  'log-level': { type: 'string', short: 'l' },
  debug: { type: 'boolean', short: 'D' },
  label: { type: 'string', multiple: true },
  'insecure-registry': { type: 'string', multiple: true },
  'registry-mirror': { type: 'string', multiple: true },
  bridge: { type: 'string', short: 'b' },
  bip: { type: 'string' },
  'default-address-pool': { type: 'string', multiple: true },
  ipv6: { type: 'boolean' },
  'fixed-cidr-v6': { type: 'string' },
  dns: { type: 'string', multiple: true },
  mtu: { type: 'string' },
  'default-ulimit': { type: 'string', multiple: true },
  'log-driver': { type: 'string' },
  'log-opt': { type: 'string', multiple: true },
  'build-context-max': { type: 'string' },
  'max-request-body': { type: 'string' },
  version: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type ParsedArgs = { config: DaemonConfig; version: boolean; help: boolean };

export const USAGE = `Usage: berthd [OPTIONS]

  -H, --host ADDR             listen on unix://PATH, tcp://HOST:PORT or fd:// (repeatable)
      --tls                   use TLS on TCP listeners (implied by --tlsverify)
      --tlsverify             accept only clients whose certificate chains to --tlscacert
      --tlscacert, --tlscert, --tlskey FILE
      --data-root DIR         persistent state (default ${DEFAULT_DATA_ROOT})
      --exec-root DIR         sockets, bundles, runtime state (default ${DEFAULT_EXEC_ROOT})
  -p, --pidfile FILE          (default <exec-root>/berthd.pid)
  -s, --storage-driver NAME   overlay2 | vfs (default overlay2 where overlayfs exists)
      --runtime PATH          OCI runtime (default berth-runtime; crun or runc by path)
      --config-file FILE      daemon.json with the same keys
  -l, --log-level LEVEL       debug | info | warn | error | fatal
  -D, --debug                 same as --log-level debug
      --label KEY=VALUE       engine label (repeatable)
      --insecure-registry H   registry reached over plain http (repeatable)
      --registry-mirror URL   mirror for docker.io (repeatable)
  -b, --bridge NAME           default bridge interface (default berth0)
      --bip CIDR              default bridge address, e.g. 10.20.0.1/24
      --default-address-pool base=CIDR,size=N   pools for network subnets (repeatable)
      --ipv6                  IPv6 on the default bridge too
      --fixed-cidr-v6 CIDR    the default bridge's IPv6 subnet (default: a /64 of the IPv6 pool)
      --dns IP                containers' name server when they set none (repeatable)
      --mtu N                 MTU of bridge networks (default: the host's)
      --default-ulimit NAME=SOFT[:HARD]   containers' ulimit when they set none (repeatable)
      --log-driver NAME       json-file | none (default json-file)
      --log-opt KEY=VALUE     max-size, max-file (repeatable)
      --build-context-max SIZE   largest build context accepted, e.g. 512m or 4g (default 4g)
      --max-request-body BYTES  largest JSON request body accepted (default 10485760; larger: 413)
  -v, --version               print the version and exit
`;

/** daemon.json keys (dockerd's) as berth understands them. */
interface DaemonJson {
  hosts?: string[];
  tls?: boolean;
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
  'data-root'?: string;
  'exec-root'?: string;
  pidfile?: string;
  'storage-driver'?: string;
  'default-runtime'?: string;
  runtime?: string;
  labels?: string[];
  'log-level'?: string;
  debug?: boolean;
  'insecure-registries'?: string[];
  'registry-mirrors'?: string[];
  bridge?: string;
  bip?: string;
  'default-address-pools'?: Array<{ base: string; size: number }>;
  ipv6?: boolean;
  'fixed-cidr-v6'?: string;
  dns?: string[];
  mtu?: number;
  'default-ulimits'?: Record<string, { Name?: string; Soft: number; Hard: number }>;
  'log-driver'?: string;
  'log-opts'?: Record<string, string>;
  'build-context-max'?: string;
  'max-request-body'?: number;
}

export function parseDaemonArgs(argv: string[]): ParsedArgs {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options: FLAGS, allowPositionals: false, strict: true }));
  } catch (err) {
    throw new InvalidArgumentError(`${(err as Error).message} (see berthd --help)`);
  }
  const file: DaemonJson = values['config-file'] ? readConfigFile(values['config-file'] as string) : {};
  const str = (flag: string, key: keyof DaemonJson): string | undefined =>
    (values[flag] as string | undefined) ?? (file[key] as string | undefined);
  const list = (flag: string, key: keyof DaemonJson): string[] =>
    (values[flag] as string[] | undefined) ?? (file[key] as string[] | undefined) ?? [];

  const execRoot = resolve(str('exec-root', 'exec-root') ?? DEFAULT_EXEC_ROOT);
  const dataRoot = resolve(str('data-root', 'data-root') ?? DEFAULT_DATA_ROOT);
  const tlsVerify = Boolean(values.tlsverify ?? file.tlsverify ?? false);
  const logLevel = values.debug || file.debug ? 'debug' : (str('log-level', 'log-level') ?? 'info');
  if (!isLogLevel(logLevel)) throw new InvalidArgumentError(`--log-level ${logLevel}: use debug, info, warn, error or fatal`);
  // dockerd's legacy "overlay" is served by overlay2 (the same kernel overlayfs).
  const storage = str('storage-driver', 'storage-driver') === 'overlay' ? 'overlay2' : str('storage-driver', 'storage-driver');
  if (storage !== undefined && storage !== 'overlay2' && storage !== 'vfs') {
    throw new InvalidArgumentError(`--storage-driver ${storage}: berthd supports overlay2 (or overlay) and vfs`);
  }
  const logDriver = str('log-driver', 'log-driver') ?? 'json-file';
  if (!LOG_DRIVERS.includes(logDriver)) throw new InvalidArgumentError(`--log-driver ${logDriver}: berthd supports json-file and none`);
  const logOpts: Record<string, string> = { ...(file['log-opts'] ?? {}) };
  for (const kv of (values['log-opt'] as string[] | undefined) ?? []) {
    const i = kv.indexOf('=');
    if (i < 1) throw new InvalidArgumentError(`--log-opt ${kv}: use KEY=VALUE`);
    logOpts[kv.slice(0, i)] = kv.slice(i + 1);
  }
  for (const [k, v] of Object.entries(logOpts)) {
    if (!LOG_OPTS.includes(k)) throw new InvalidArgumentError(`--log-opt ${k}: berthd's json-file log supports ${LOG_OPTS.join(' and ')}`);
    if (k === 'max-size' && !/^\d+(\.\d+)?[kmgKMG]?[bB]?$/.test(v)) throw new InvalidArgumentError(`--log-opt max-size=${v}: a size such as 10m`);
    if (k === 'max-file' && !/^[1-9]\d*$/.test(v)) throw new InvalidArgumentError(`--log-opt max-file=${v}: a positive number`);
  }
  const mtuText = (values.mtu as string | undefined) ?? (file.mtu === undefined ? undefined : String(file.mtu));
  const mtu = mtuText === undefined ? undefined : Number(mtuText);
  if (mtu !== undefined && (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535)) throw new InvalidArgumentError(`--mtu ${mtuText}: a number from 68 to 65535`);
  const ipv6 = Boolean(values.ipv6 ?? file.ipv6 ?? false);
  const fixedCidrV6 = str('fixed-cidr-v6', 'fixed-cidr-v6');
  if (fixedCidrV6 && !ipv6) throw new InvalidArgumentError(`--fixed-cidr-v6 ${fixedCidrV6} needs --ipv6`);
  const dns = list('dns', 'dns');
  for (const d of dns) if (!isIP(d)) throw new InvalidArgumentError(`--dns ${d}: an IP address`);
  const ulimitSpecs = (values['default-ulimit'] as string[] | undefined)
    ?? Object.entries(file['default-ulimits'] ?? {}).map(([name, u]) => `${name}=${u.Soft}:${u.Hard}`);
  const config: DaemonConfig = {
    hosts: list('host', 'hosts'),
    tls: tlsVerify || Boolean(values.tls ?? file.tls ?? false),
    tlsVerify,
    tlsCaCert: optPath(str('tlscacert', 'tlscacert')),
    tlsCert: optPath(str('tlscert', 'tlscert')),
    tlsKey: optPath(str('tlskey', 'tlskey')),
    dataRoot,
    execRoot,
    pidfile: resolve(str('pidfile', 'pidfile') ?? `${execRoot}/berthd.pid`),
    storageDriver: storage as StorageDriver | undefined,
    runtime: str('runtime', 'default-runtime') ?? file.runtime,
    labels: list('label', 'labels'),
    logLevel,
    insecureRegistries: list('insecure-registry', 'insecure-registries'),
    registryMirrors: list('registry-mirror', 'registry-mirrors'),
    bridge: str('bridge', 'bridge'),
    bip: str('bip', 'bip'),
    defaultAddressPools: (values['default-address-pool'] as string[] | undefined)
      ?? (file['default-address-pools'] ?? []).map((p) => `base=${p.base},size=${p.size}`),
    ...(ipv6 ? { ipv6 } : {}),
    ...(fixedCidrV6 ? { fixedCidrV6 } : {}),
    dns,
    mtu,
    defaultUlimits: ulimitSpecs.map(parseUlimit),
    logDriver: logDriver as DaemonConfig['logDriver'],
    logOpts,
  };
  const ctxMax = str('build-context-max', 'build-context-max');
  if (ctxMax !== undefined) config.buildContextMax = parseSize(ctxMax, '--build-context-max');
  const maxBody = (values['max-request-body'] as string | undefined) ?? file['max-request-body'];
  if (maxBody !== undefined) {
    const n = Number(maxBody);
    if (!Number.isInteger(n) || n < 1024) throw new InvalidArgumentError(`--max-request-body ${maxBody}: use a number of bytes, at least 1024`);
    config.maxRequestBody = n;
  }
  if (config.hosts.length === 0) config.hosts = [`unix://${execRoot}/berthd.sock`];
  for (const host of config.hosts) validateHost(host);
  for (const label of config.labels) {
    if (!label.includes('=')) throw new InvalidArgumentError(`--label ${label}: use KEY=VALUE`);
  }
  if (config.tls && config.hosts.some((h) => h.startsWith('tcp://')) && (!config.tlsCert || !config.tlsKey)) {
    throw new InvalidArgumentError('--tls/--tlsverify need --tlscert and --tlskey');
  }
  if (config.tlsVerify && !config.tlsCaCert) throw new InvalidArgumentError('--tlsverify needs --tlscacert (the CA that signs client certificates)');
  return { config, version: Boolean(values.version), help: Boolean(values.help) };
}

/** dockerd's --default-ulimit NAME=SOFT[:HARD] (HARD defaults to SOFT). */
function parseUlimit(spec: string): { Name: string; Soft: number; Hard: number } {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(spec);
  if (!m) throw new InvalidArgumentError(`--default-ulimit ${spec}: use NAME=SOFT[:HARD], e.g. nofile=1024:2048`);
  const soft = Number(m[2]);
  const hard = m[3] === undefined ? soft : Number(m[3]);
  if (soft > hard) throw new InvalidArgumentError(`--default-ulimit ${spec}: the soft limit is above the hard one`);
  return { Name: m[1], Soft: soft, Hard: hard };
}

function parseSize(s: string, what: string): number {
  const m = /^(\d+)([kmg]?)b?$/i.exec(String(s).trim());
  if (!m) throw new InvalidArgumentError(`${what} ${s}: give a size like 512m or 4g`);
  return Number(m[1]) * ({ '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as Record<string, number>)[m[2].toLowerCase()];
}

function optPath(p: string | undefined): string | undefined {
  return p === undefined ? undefined : resolve(p);
}

function readConfigFile(path: string): DaemonJson {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InvalidArgumentError(`--config-file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as DaemonJson;
  } catch (err) {
    throw new InvalidArgumentError(`--config-file ${path}: invalid JSON (${(err as Error).message})`);
  }
}

function validateHost(host: string): void {
  if (host.startsWith('unix://') && host.length > 'unix://'.length) return;
  if (host === 'fd://' || /^fd:\/\/\d+$/.test(host)) return;
  if (/^tcp:\/\/(\[[0-9a-fA-F:]+\]|[^:/]*):\d+$/.test(host)) return;
  throw new InvalidArgumentError(`-H ${host}: use unix:///path/to.sock, tcp://HOST:PORT or fd://`);
}
