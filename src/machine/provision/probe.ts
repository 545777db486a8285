import { InvalidArgumentError, ProvisionError } from '../errors.js';
import { mustRun, shq, type CommandRunner } from '../runner/index.js';
import type { HostLayout } from './layout.js';
import type { ServiceKind } from './service.js';

/**
 * One round trip that tells the provisioner everything about a host: its OS (from
 * /etc/os-release), architecture, C library, init system,
 * whether it has zstd (the bundle then travels zstd-compressed) and installed bundle.
 */
export interface OsInfo { id: string; idLike: string[]; versionId: string; prettyName: string; family: OsFamily }
export type OsFamily = 'debian' | 'redhat' | 'alpine' | 'suse' | 'arch' | 'linux';

export interface HostFacts { os: OsInfo; arch: string; glibc: boolean; service: ServiceKind; zstd: boolean; bundleId: string }

const FAMILIES: [OsFamily, string[]][] = [
  ['debian', ['debian', 'ubuntu', 'raspbian', 'linuxmint']],
  ['redhat', ['rhel', 'fedora', 'centos', 'rocky', 'almalinux', 'amzn', 'ol']],
  ['alpine', ['alpine']],
  ['suse', ['sles', 'opensuse', 'opensuse-leap', 'suse']],
  ['arch', ['arch', 'manjaro']],
];

export function parseOsRelease(text: string): OsInfo {
  const kv: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) kv[m[1]] = m[2].replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
  }
  const id = (kv.ID ?? '').toLowerCase();
  const idLike = (kv.ID_LIKE ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  const family = FAMILIES.find(([, ids]) => ids.includes(id))?.[0]
    ?? FAMILIES.find(([, ids]) => idLike.some((l) => ids.includes(l)))?.[0]
    ?? 'linux';
  return { id, idLike, versionId: kv.VERSION_ID ?? '', prettyName: kv.PRETTY_NAME ?? id, family };
}

const SEP = '@@berth@@';

/** The probe as one shell command list; parseFacts reads what it prints. */
export function probeScript(layout: HostLayout): string {
  return [
    'cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null', `echo ${SEP}`,
    'uname -m', `echo ${SEP}`,
    // The SEA is a glibc binary: look for glibc's dynamic loader.
    'ls /lib64/ld-linux-*.so.* /lib/ld-linux-*.so.* 2>/dev/null | head -n 1', `echo ${SEP}`,
    '[ -d /run/systemd/system ] && echo systemd', `echo ${SEP}`,
    'command -v zstd >/dev/null && echo zstd', `echo ${SEP}`,
    `cat ${shq(layout.bundleIdFile)} 2>/dev/null`, 'true',
  ].join('; ');
}

export function parseFacts(out: string, layout: HostLayout, target: string): HostFacts {
  const [osRelease, arch, loader, init, zstd, bundleId] = out.split(`${SEP}\n`);
  if (!osRelease?.trim()) throw new ProvisionError(`${target} has no /etc/os-release: cannot tell its OS`);
  const os = parseOsRelease(osRelease);
  return {
    os,
    arch: arch.trim(),
    glibc: loader.trim() !== '',
    // A prefixed install is a guest: it never writes units into the host's systemd.
    service: init.trim() === 'systemd' && !layout.prefix ? 'systemd' : 'supervised',
    zstd: zstd?.trim() === 'zstd',
    bundleId: (bundleId ?? '').trim(),
  };
}

export async function probeHost(runner: CommandRunner, layout: HostLayout): Promise<HostFacts> {
  return parseFacts(await mustRun(runner, probeScript(layout), 'reading the host facts'), layout, runner.target);
}

/** The bundle is one architecture's glibc binaries: refuse hosts that can't run them. */
export function checkCompatible(facts: HostFacts, target: string): void {
  const want = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch;
  if (facts.arch !== want) {
    throw new InvalidArgumentError(`${target} is ${facts.arch}, but this berth carries an engine for ${want}`, { hint: `run berth machine create from a ${facts.arch} computer` });
  }
  if (!facts.glibc) {
    const hint = facts.os.family === 'alpine' ? 'install glibc compatibility first: apk add gcompat libstdc++' : 'use a glibc-based distribution';
    throw new InvalidArgumentError(`${target} (${facts.os.prettyName}) has no glibc; the engine bundle needs it`, { hint });
  }
}
