/** Picking the address a node advertises, as dockerd does for `swarm init/join`. */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import { InvalidArgumentError } from '../errors.js';
import { splitHostPort } from './ctl.js';

/** IPv4 of an interface name, or undefined. */
function ifaceAddr(name: string): string | undefined {
  return os.networkInterfaces()[name]?.find((a) => a.family === 'IPv4')?.address;
}

function defaultRouteIface(): string | undefined {
  try {
    for (const line of readFileSync('/proc/net/route', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1] === '00000000') return f[0];
    }
  } catch { /* no procfs route table */ }
  return undefined;
}

/**
 * AdvertiseAddr may be an IP, IP:PORT or an interface name; empty means the
 * listen address when it is specific, else the address of the default-route
 * interface.
 */
export function chooseAdvertiseAddr(advertise: string | undefined, listen: string | undefined): { addr: string; port: number; listenHost: string } {
  const l = splitHostPort(listen || '0.0.0.0:2377', 2377);
  const listenHost = isIP(l.host) ? l.host : ifaceAddr(l.host) ?? l.host;
  if (advertise) {
    const a = splitHostPort(advertise, l.port);
    const ip = isIP(a.host) ? a.host : ifaceAddr(a.host);
    if (!ip) throw new InvalidArgumentError(`advertise address ${advertise}: not an IP address nor an interface with an IPv4 address`);
    return { addr: ip, port: l.port, listenHost };
  }
  if (listenHost !== '0.0.0.0' && listenHost !== '::') return { addr: listenHost, port: l.port, listenHost };
  const iface = defaultRouteIface();
  const ip = iface ? ifaceAddr(iface) : undefined;
  if (!ip) throw new InvalidArgumentError('could not choose an IP address to advertise since this system has no default route: use --advertise-addr IP');
  return { addr: ip, port: l.port, listenHost };
}
