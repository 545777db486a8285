/** Capabilities, seccomp and SecurityOpt of a container, with docker's semantics. */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from '../errors.js';
import type { HostConfig } from '../containers/types.js';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES } from './defaults.js';
import type { OciSeccomp, OciSeccompRule } from './oci.js';
import { defaultSeccompProfile } from './seccomp-default.js';

function normalizeCap(cap: string): string {
  const up = cap.toUpperCase();
  if (up === 'ALL') return up;
  const full = up.startsWith('CAP_') ? up : `CAP_${up}`;
  if (!ALL_CAPABILITIES.includes(full)) throw new InvalidArgumentError(`unknown capability: "${cap}"`);
  return full;
}

const readFlag = (path: string): string => { try { return readFileSync(path, 'utf8').trim(); } catch { return ''; } };
export const apparmorEnabled = (): boolean => readFlag('/sys/module/apparmor/parameters/enabled') === 'Y';
export const selinuxEnabled = (): boolean => readFlag('/sys/fs/selinux/enforce') === '1';

/** What docker would confine on this host and berthd does not: said in /info's warnings, not silently left out. */
export function hostLsmWarnings(): string[] {
  const w: string[] = [];
  if (apparmorEnabled()) w.push('WARNING: AppArmor is enabled on this host, but berthd does not confine containers with it (dockerd applies docker-default): they rely on seccomp, capabilities and namespaces');
  if (selinuxEnabled()) w.push('WARNING: SELinux is enforcing on this host, but berthd does not label containers (dockerd does with --selinux-enabled): they rely on seccomp, capabilities and namespaces');
  return w;
}

let hostCaps: string[] | undefined;
/** The capabilities berthd itself may hand out (its bounding set), like docker's GetAllCapabilities. */
export function hostCapabilities(): string[] {
  if (!hostCaps) {
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    const mask = m ? BigInt(`0x${m[1]}`) : (1n << BigInt(ALL_CAPABILITIES.length)) - 1n;
    // ALL_CAPABILITIES is in kernel bit order.
    hostCaps = ALL_CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
  }
  return hostCaps;
}

export function capabilitySet(hc: HostConfig): string[] {
  if (hc.Privileged) return hostCapabilities();
  const add = (hc.CapAdd ?? []).map(normalizeCap);
  const drop = (hc.CapDrop ?? []).map(normalizeCap);
  let caps = add.includes('ALL') ? hostCapabilities() : [...DEFAULT_CAPABILITIES];
  if (drop.includes('ALL')) caps = [];
  for (const c of add) if (c !== 'ALL' && !caps.includes(c)) caps.push(c);
  return caps.filter((c) => !drop.includes(c));
}

export interface SecurityOptions { seccomp: OciSeccomp | null; noNewPrivileges: boolean; warnings: string[] }

export function parseSecurityOpt(hc: HostConfig, caps: string[]): SecurityOptions {
  const result: SecurityOptions = { seccomp: hc.Privileged ? null : defaultSeccompProfile(caps), noNewPrivileges: false, warnings: [] };
  for (const opt of hc.SecurityOpt ?? []) {
    const sep = opt.search(/[=:]/);
    const key = sep < 0 ? opt : opt.slice(0, sep);
    const value = sep < 0 ? '' : opt.slice(sep + 1);
    switch (key) {
      case 'no-new-privileges':
        if (value !== '' && value !== 'true' && value !== 'false') throw new InvalidArgumentError(`invalid --security-opt: ${opt}: use no-new-privileges[=true|false]`);
        result.noNewPrivileges = value !== 'false';
        break;
      case 'seccomp':
        if (value === 'unconfined') result.seccomp = null;
        else if (value === 'builtin' || value === '') result.seccomp = defaultSeccompProfile(caps);
        else result.seccomp = convertDockerProfile(value, caps);
        break;
      case 'apparmor':
        // berthd loads no AppArmor profile: only the setting that asks for none is honest.
        if (value !== 'unconfined') throw new InvalidArgumentError(`--security-opt ${opt}: berthd does not confine containers with AppArmor${apparmorEnabled() ? '' : ' (and this host has no AppArmor)'}: drop the option or use apparmor=unconfined`);
        break;
      case 'label':
        // Nor does it label processes or files for SELinux.
        if (value !== 'disable') throw new InvalidArgumentError(`--security-opt ${opt}: berthd does not apply SELinux labels${selinuxEnabled() ? '' : ' (and this host has no SELinux)'}: drop the option or use label=disable`);
        break;
      default:
        throw new InvalidArgumentError(`invalid --security-opt: ${JSON.stringify(opt)}: use seccomp=, no-new-privileges or apparmor=`);
    }
  }
  return result;
}

interface DockerSyscall {
  name?: string; names?: string[]; action: string; errnoRet?: number;
  args?: { index: number; value: number; valueTwo?: number; op: string }[] | null;
  includes?: { caps?: string[]; arches?: string[] }; excludes?: { caps?: string[]; arches?: string[] };
}

/** A docker-format seccomp profile (as the CLI sends it, inline JSON) -> OCI seccomp. */
export function convertDockerProfile(json: string, caps: string[]): OciSeccomp {
  let profile: { defaultAction?: string; defaultErrnoRet?: number; architectures?: string[]; archMap?: { architecture: string; subArchitectures?: string[] }[]; syscalls?: DockerSyscall[] };
  try {
    profile = JSON.parse(json);
  } catch {
    throw new InvalidArgumentError('invalid seccomp profile: not valid JSON (pass a file path to --security-opt seccomp=FILE)');
  }
  if (!profile.defaultAction) throw new InvalidArgumentError('invalid seccomp profile: defaultAction is missing');
  const hasCap = (list?: string[]) => (list ?? []).every((c) => caps.includes(c));
  const rules: OciSeccompRule[] = [];
  for (const s of profile.syscalls ?? []) {
    if (s.includes?.caps && !hasCap(s.includes.caps)) continue;
    if (s.includes?.arches && !s.includes.arches.some((a) => ['amd64', 'x86_64'].includes(a))) continue;
    if (s.excludes?.caps && s.excludes.caps.some((c) => caps.includes(c))) continue;
    const names = s.names ?? (s.name ? [s.name] : []);
    if (!names.length) throw new InvalidArgumentError('invalid seccomp profile: a syscall rule has no names');
    rules.push({ names, action: s.action, ...(s.errnoRet !== undefined ? { errnoRet: s.errnoRet } : {}), ...(s.args?.length ? { args: s.args } : {}) });
  }
  const arches = profile.architectures ?? profile.archMap?.flatMap((a) => [a.architecture, ...(a.subArchitectures ?? [])]);
  return {
    defaultAction: profile.defaultAction,
    ...(profile.defaultErrnoRet !== undefined ? { defaultErrnoRet: profile.defaultErrnoRet } : {}),
    ...(arches?.length ? { architectures: arches } : {}),
    syscalls: rules,
  };
}
