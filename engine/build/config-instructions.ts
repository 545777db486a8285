/**
 * The Dockerfile instructions that only change an image's config (CMD, ENV, LABEL, ...),
 * interpreted once for the builder and for `--change` on commit and import, as dockerd
 * runs the builder's own dispatchers for those.
 */
import { posix } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import type { ImageConfig } from '../images/index.js';
import { mergeEnv } from '../containers/imageconfig.js';
import { nameValues, parseDockerfile, splitWords, type Instruction } from './dockerfile.js';
import { expandWord } from './expand.js';

export type Cfg = NonNullable<ImageConfig['config']>;

export const DEFAULT_SHELL = ['/bin/sh', '-c'];

export interface Scope {
  /** What $NAME expands to: the build args and the config's Env. */
  vars: ReadonlyMap<string, string>;
  escape: string;
  /** A CMD came earlier (in the stage, or the changes): a later ENTRYPOINT keeps it. */
  cmdSet: boolean;
}

const CONFIG_ONLY = new Set(['ENV', 'LABEL', 'EXPOSE', 'VOLUME', 'USER', 'STOPSIGNAL', 'CMD', 'ENTRYPOINT', 'HEALTHCHECK', 'ONBUILD']);

/** The instructions `--change` accepts (dockerd's validCommitCommands: no STOPSIGNAL). */
const CHANGE_COMMANDS = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'HEALTHCHECK', 'LABEL', 'ONBUILD', 'USER', 'VOLUME', 'WORKDIR'];

export function isConfigOnly(keyword: string): boolean {
  return CONFIG_ONLY.has(keyword);
}

/**
 * Applies a config-only instruction to a copy of `current`. `nop` is the text after
 * `#(nop)` in docker's history.
 */
export function applyConfigInstruction(ins: Instruction, current: Cfg, scope: Scope): { next: Cfg; nop: string } {
  const expand = (w: string) => expandWord(w, scope.vars, scope.escape);
  const next = structuredClone(current);
  const shell = current.Shell?.length ? current.Shell : DEFAULT_SHELL;
  switch (ins.keyword) {
    case 'ENV': {
      const pairs = nameValues(ins, scope.escape).map(([k, v]) => `${expand(k)}=${expand(v ?? '')}`);
      next.Env = mergeEnv(next.Env ?? [], pairs);
      return { next, nop: `ENV ${pairs.join(' ')}` };
    }
    case 'LABEL': {
      const pairs = nameValues(ins, scope.escape).map(([k, v]) => [expand(k), expand(v ?? '')]);
      next.Labels = { ...(next.Labels ?? {}), ...Object.fromEntries(pairs) };
      return { next, nop: `LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}` };
    }
    case 'EXPOSE': {
      const ports = splitWords(ins.args, scope.escape).map(expand);
      if (!ports.length) throw new InvalidArgumentError(`Dockerfile line ${ins.line}: EXPOSE needs at least one port`);
      next.ExposedPorts = { ...(next.ExposedPorts ?? {}) };
      for (const p of ports) for (const key of exposedKeys(p, ins.line)) next.ExposedPorts[key] = {};
      return { next, nop: `EXPOSE ${[...ports].sort().join(' ')}` };
    }
    case 'VOLUME': {
      const vols = (ins.json ?? splitWords(ins.args, scope.escape)).map(expand).filter(Boolean);
      if (!vols.length) throw new InvalidArgumentError(`Dockerfile line ${ins.line}: VOLUME needs at least one path`);
      next.Volumes = { ...(next.Volumes ?? {}), ...Object.fromEntries(vols.map((v) => [v, {}])) };
      return { next, nop: `VOLUME [${vols.join(' ')}]` };
    }
    case 'USER': {
      const user = expand(ins.args.trim());
      if (!user) throw new InvalidArgumentError(`Dockerfile line ${ins.line}: USER needs a user name or id`);
      next.User = user;
      return { next, nop: `USER ${user}` };
    }
    case 'STOPSIGNAL': {
      const sig = expand(ins.args.trim());
      if (!/^(SIG)?[A-Z0-9+-]+$|^\d+$/i.test(sig)) throw new InvalidArgumentError(`Dockerfile line ${ins.line}: invalid signal ${sig}: use a name like SIGTERM or a number`);
      next.StopSignal = sig;
      return { next, nop: `STOPSIGNAL ${sig}` };
    }
    case 'CMD':
      next.Cmd = ins.json ?? [...shell, ins.args];
      return { next, nop: `CMD ${goList(next.Cmd)}` };
    case 'ENTRYPOINT':
      next.Entrypoint = ins.json ?? (ins.args.trim() ? [...shell, ins.args] : null);
      if (!scope.cmdSet) next.Cmd = null;
      return { next, nop: `ENTRYPOINT ${goList(next.Entrypoint ?? [])}` };
    case 'HEALTHCHECK':
      next.Healthcheck = healthcheck(ins);
      return { next, nop: `HEALTHCHECK ${goHealthcheck(next.Healthcheck)}` };
    case 'ONBUILD': {
      const inner = ins.args.trim();
      const kw = inner.split(/\s+/)[0]?.toUpperCase() ?? '';
      if (!kw) throw new InvalidArgumentError(`Dockerfile line ${ins.line}: ONBUILD needs an instruction`);
      if (['ONBUILD', 'FROM', 'MAINTAINER'].includes(kw)) throw new InvalidArgumentError(`Dockerfile line ${ins.line}: ${kw} isn't allowed as an ONBUILD trigger`);
      const trigger = kw + inner.slice(kw.length);
      next.OnBuild = [...(next.OnBuild ?? []), trigger];
      return { next, nop: `ONBUILD ${trigger}` };
    }
    default:
      throw new Error(`${ins.keyword} is not a config-only instruction`);
  }
}

/** WORKDIR's directory: absolute, or joined to the current one. */
export function workingDir(ins: Instruction, current: Cfg, scope: Scope): string {
  const path = expandWord(ins.args.trim(), scope.vars, scope.escape);
  if (!path) throw new InvalidArgumentError(`Dockerfile line ${ins.line}: WORKDIR needs a path`);
  return posix.isAbsolute(path) ? posix.normalize(path) : posix.join(current.WorkingDir || '/', path);
}

/**
 * `--change` of commit and import: the changes joined by newlines are one Dockerfile of
 * config instructions (as dockerd's BuildFromConfig), expanded with the config's Env.
 */
export function applyChanges(current: Cfg, changes: string[]): Cfg {
  let cfg = structuredClone(current);
  if (!changes.length) return cfg;
  let cmdSet = false;
  try {
    const { instructions, escape } = parseDockerfile(changes.join('\n'));
    for (const ins of instructions) {
      if (!CHANGE_COMMANDS.includes(ins.keyword)) {
        throw new InvalidArgumentError(`${ins.keyword.toLowerCase()} is not a valid change command: use one of ${CHANGE_COMMANDS.join(', ')}`);
      }
    }
    for (const ins of instructions) {
      const scope: Scope = { vars: envVars(cfg.Env ?? []), escape, cmdSet };
      if (ins.keyword === 'WORKDIR') cfg = { ...cfg, WorkingDir: workingDir(ins, cfg, scope) };
      else cfg = applyConfigInstruction(ins, cfg, scope).next;
      if (ins.keyword === 'CMD') cmdSet = true;
    }
  } catch (err) {
    if (err instanceof InvalidArgumentError) err.message = err.message.replace(/^Dockerfile line (\d+): /, 'change $1: ');
    throw err;
  }
  return cfg;
}

function envVars(env: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env) {
    const i = e.indexOf('=');
    if (i > 0) m.set(e.slice(0, i), e.slice(i + 1));
  }
  return m;
}

/** Go's %q of a []string, as docker's history shows CMD and ENTRYPOINT. */
export function goList(a: string[]): string {
  return `[${a.map((s) => JSON.stringify(s)).join(' ')}]`;
}

/** docker's history text for HEALTHCHECK: Go's %q of the struct. */
function goHealthcheck(h: NonNullable<Cfg['Healthcheck']>): string {
  const r = h.Retries ?? 0;
  const rune = r >= 0x20 && r < 0x7f ? `'${String.fromCharCode(r).replace(/['\\]/g, '\\$&')}'` : `'\\x${r.toString(16).padStart(2, '0')}'`;
  return `&{${goList(h.Test ?? [])} "${goDuration(h.Interval ?? 0)}" "${goDuration(h.Timeout ?? 0)}" "${goDuration(h.StartPeriod ?? 0)}" ${rune}}`;
}

/** Go's time.Duration String(). */
function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  if (ns < 1e9) {
    if (ns < 1e3) return `${ns}ns`;
    if (ns < 1e6) return `${trimNum(ns / 1e3)}µs`;
    return `${trimNum(ns / 1e6)}ms`;
  }
  const h = Math.floor(ns / 3600e9);
  const m = Math.floor((ns % 3600e9) / 60e9);
  const s = trimNum((ns % 60e9) / 1e9);
  if (h) return `${h}h${m}m${s}s`;
  if (m) return `${m}m${s}s`;
  return `${s}s`;
}

function trimNum(n: number): string {
  return String(Number(n.toFixed(9)));
}

function exposedKeys(p: string, line: number): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(p);
  if (!m) throw new InvalidArgumentError(`Dockerfile line ${line}: invalid port ${p}: use PORT[/PROTO] or a range like 8000-8010`);
  const from = Number(m[1]);
  const to = m[2] ? Number(m[2]) : from;
  const proto = (m[3] ?? 'tcp').toLowerCase();
  const out: string[] = [];
  for (let n = from; n <= to; n++) out.push(`${n}/${proto}`);
  return out;
}

function duration(s: string, what: string, line: number): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const unit: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  let rest = s;
  let m;
  while ((m = re.exec(s))) {
    total += Number(m[1]) * unit[m[2]];
    rest = rest.replace(m[0], '');
  }
  if (rest || !s) throw new InvalidArgumentError(`Dockerfile line ${line}: HEALTHCHECK --${what}=${s}: use a duration like 30s or 1m30s`);
  return Math.round(total);
}

function healthcheck(ins: Instruction): NonNullable<Cfg['Healthcheck']> {
  const rest = ins.args.trim();
  const m = /^(\S+)\s*([\s\S]*)$/.exec(rest);
  const kw = m?.[1].toUpperCase();
  if (kw === 'NONE') {
    if (Object.keys(ins.flags).length || m![2]) throw new InvalidArgumentError(`Dockerfile line ${ins.line}: HEALTHCHECK NONE takes no arguments`);
    return { Test: ['NONE'] };
  }
  if (kw !== 'CMD' || !m![2]) throw new InvalidArgumentError(`Dockerfile line ${ins.line}: HEALTHCHECK needs CMD <command> or NONE`);
  let json: string[] | undefined;
  if (m![2].startsWith('[')) {
    try {
      const v = JSON.parse(m![2]);
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) json = v;
    } catch { /* shell form */ }
  }
  const hc: NonNullable<Cfg['Healthcheck']> = { Test: json ? ['CMD', ...json] : ['CMD-SHELL', m![2]] };
  for (const [k, v] of Object.entries(ins.flags)) {
    if (k === 'interval') hc.Interval = duration(v, k, ins.line);
    else if (k === 'timeout') hc.Timeout = duration(v, k, ins.line);
    else if (k === 'start-period') hc.StartPeriod = duration(v, k, ins.line);
    else if (k === 'start-interval') hc.StartInterval = duration(v, k, ins.line);
    else if (k === 'retries') {
      if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`Dockerfile line ${ins.line}: HEALTHCHECK --retries=${v}: give a whole number`);
      hc.Retries = Number(v);
    } else throw new InvalidArgumentError(`Dockerfile line ${ins.line}: unknown flag --${k} for HEALTHCHECK`);
  }
  return hc;
}
