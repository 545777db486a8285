import { InvalidArgumentError } from '../errors.js';
import { parseIp } from './cidr.js';

export type Proto = 'tcp' | 'udp';

/** What the API's HostConfig.PortBindings asks for one container port. */
export interface PortRequest {
  proto: Proto;
  containerPort: number;
  hostIp: string;          // "0.0.0.0" when any
  hostPortMin: number;     // 0 = ephemeral
  hostPortMax: number;
}

/** A binding that holds a real host port. */
export interface PortBinding {
  proto: Proto;
  containerPort: number;
  hostIp: string;
  hostPort: number;
}

export function portKey(proto: Proto, port: number): string {
  return `${port}/${proto}`;
}

/** Parses "80", "80/tcp", "53/udp" (keys of ExposedPorts and PortBindings). */
export function parsePortKey(key: string): { proto: Proto; port: number } {
  const m = /^(\d{1,5})(?:\/([a-z]+))?$/.exec(key.trim());
  const proto = (m?.[2] ?? 'tcp') as Proto;
  if (!m || !validPort(Number(m[1]))) {
    throw new InvalidArgumentError(`invalid port "${key}": expected PORT[/tcp|/udp] with PORT from 1 to 65535`);
  }
  if (proto !== 'tcp' && proto !== 'udp') throw new InvalidArgumentError(`invalid protocol in port "${key}": use tcp or udp`);
  return { proto, port: Number(m[1]) };
}

function validPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

/** Parses a HostPort value: "", "0", "8080", "8000-8010". */
export function parseHostPort(text: string | undefined): { min: number; max: number } {
  const t = (text ?? '').trim();
  if (t === '' || t === '0') return { min: 0, max: 0 };
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(t);
  const min = Number(m?.[1]);
  const max = m?.[2] ? Number(m[2]) : min;
  if (!m || !validPort(min) || !validPort(max) || max < min) {
    throw new InvalidArgumentError(`invalid host port "${text}": expected PORT or START-END with ports from 1 to 65535`);
  }
  return { min, max };
}

type Bindings = Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> | null | undefined;

/**
 * The ports a container asks to publish: PortBindings, plus every ExposedPorts entry
 * on an ephemeral port when PublishAllPorts (-P) is set.
 */
export function portRequests(exposed: Record<string, unknown> | null | undefined, bindings: Bindings, publishAll: boolean): PortRequest[] {
  const out: PortRequest[] = [];
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const { proto, port } = parsePortKey(key);
    for (const b of list ?? []) {
      const hostIp = b.HostIp?.trim() || '0.0.0.0';
      if (hostIp.includes(':')) throw new InvalidArgumentError(`host IP "${hostIp}" for port ${key}: only IPv4 is supported`);
      parseIp(hostIp, `host IP for port ${key}`);
      const { min, max } = parseHostPort(b.HostPort);
      out.push({ proto, containerPort: port, hostIp, hostPortMin: min, hostPortMax: max });
    }
  }
  if (publishAll) {
    for (const key of Object.keys(exposed ?? {})) {
      const { proto, port } = parsePortKey(key);
      if (!out.some((r) => r.proto === proto && r.containerPort === port)) {
        out.push({ proto, containerPort: port, hostIp: '0.0.0.0', hostPortMin: 0, hostPortMax: 0 });
      }
    }
  }
  return out;
}

/** NetworkSettings.Ports: every exposed or published port, null when not published. */
export function portsMap(exposed: Record<string, unknown> | null | undefined, bound: PortBinding[]): Record<string, Array<{ HostIp: string; HostPort: string }> | null> {
  const map: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
  for (const key of Object.keys(exposed ?? {})) {
    const { proto, port } = parsePortKey(key);
    map[portKey(proto, port)] = null;
  }
  for (const b of bound) {
    const key = portKey(b.proto, b.containerPort);
    (map[key] ??= []).push({ HostIp: b.hostIp, HostPort: String(b.hostPort) });
  }
  return map;
}
