/** Addresses and ports of a VirtualBox machine: the host-only network, the SSH forward. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { InvalidArgumentError } from '../../src/machine/errors.js';
import type { Connection } from '../driver.js';

export interface HostOnlyPlan { ip: string; mask: string; prefix: number; dhcpIp: string; lower: string; upper: string; network: number }

const toInt = (ip: string) => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
const toIp = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

/** The host's address on the network and the DHCP range VirtualBox serves there (Docker Machine's: .100, .101 to the last). */
export function hostOnlyPlan(cidr: string): HostOnlyPlan {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(cidr);
  const prefix = m ? Number(m[2]) : -1;
  if (!m || m[1].split('.').some((o) => Number(o) > 255) || prefix < 8 || prefix > 29) {
    throw new InvalidArgumentError(`--virtualbox-hostonly-cidr "${cidr}" is not an IPv4 address with a prefix from /8 to /29`, { hint: 'e.g. 192.168.99.1/24 (the host\'s address on the host-only network)' });
  }
  const maskN = (0xffffffff << (32 - prefix)) >>> 0;
  const ipN = toInt(m[1]);
  const net = (ipN & maskN) >>> 0;
  const last = (net | (~maskN >>> 0)) >>> 0;
  if (ipN === net || ipN === last) throw new InvalidArgumentError(`--virtualbox-hostonly-cidr "${cidr}": ${m[1]} is the network or broadcast address`, { hint: 'give the host\'s address, e.g. 192.168.99.1/24' });
  const size = last - net;
  const dhcp = size > 200 ? net + 100 : net + Math.floor(size / 2);
  return { ip: m[1], mask: toIp(maskN), prefix, dhcpIp: toIp(dhcp), lower: toIp(dhcp + 1), upper: toIp(last - 1), network: net };
}

export function inPlan(plan: HostOnlyPlan, ip: string): boolean {
  const maskN = (0xffffffff << (32 - plan.prefix)) >>> 0;
  return /^\d+\.\d+\.\d+\.\d+$/.test(ip) && ((toInt(ip) & maskN) >>> 0) === plan.network;
}

export function parseShare(spec: string): { hostPath: string; name: string } {
  const i = spec.lastIndexOf(':');
  const hostPath = i > 0 ? spec.slice(0, i) : spec;
  const name = i > 0 ? spec.slice(i + 1) : '';
  if (!hostPath.startsWith('/') || !/^[A-Za-z0-9_.-]+$/.test(name)) {
    throw new InvalidArgumentError(`--virtualbox-share-folder "${spec}" must be DIR:NAME with an absolute DIR`, { hint: 'e.g. /home:hosthome' });
  }
  return { hostPath, name };
}

/** The guest's address on the host-only network, read with `ip` over SSH (images without Guest Additions). */
export async function sshGuestIp(c: Connection, plan: HostOnlyPlan): Promise<string> {
  if (c.kind !== 'ssh') return '';
  try {
    const { stdout } = await promisify(execFile)('ssh', ['-i', c.keyPath, '-p', String(c.port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
      '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR', `${c.user}@${c.host}`, 'ip -4 -o addr show'], { timeout: 15_000 });
    for (const m of stdout.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\//g)) if (inPlan(plan, m[1])) return m[1];
  } catch {
    // Not up yet: the caller asks again.
  }
  return '';
}
