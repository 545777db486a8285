/**
 * `machine create --swarm-manager` and `--swarm-join MANAGER`: once the engine is up,
 * `docker swarm init` on it, or `docker swarm join` with the manager machine's worker
 * token, through each engine's API over mTLS. The role is kept in the machine's
 * HostOptions.SwarmOptions as Docker Machine kept it (Master; Discovery shared by the
 * manager and its workers: berth-swarm://MANAGER), so `machine ls` shows the SWARM
 * column and --filter swarm= as Docker Machine did.
 */
import { engineGet, engineRequest, loadTlsMaterial, type TlsMaterial } from '../client/tls.js';
import type { Driver } from '../../drivers/driver.js';
import { InvalidArgumentError, ProvisionError } from './errors.js';
import { clientTlsPaths, loadMachine } from './machine.js';
import type { HostConfig } from './store/host.js';
import type { Store } from './store/index.js';

export interface SwarmRole { manager?: boolean; join?: string }

export async function checkSwarmRole(store: Store, names: string[], role: SwarmRole): Promise<void> {
  if (role.manager && role.join) throw new InvalidArgumentError('--swarm-manager and --swarm-join exclude each other', { hint: 'make one machine the manager, then create the others with --swarm-join MANAGER' });
  if (role.manager && names.length > 1) throw new InvalidArgumentError('--swarm-manager makes one machine a swarm manager, not several', { hint: `create ${names[0]} with --swarm-manager, then the others with --swarm-join ${names[0]}` });
  if (role.join) {
    if (!(await store.exists(role.join))) throw new InvalidArgumentError(`--swarm-join ${role.join}: no such machine`, { hint: 'create the manager first with --swarm-manager' });
    const m = await store.load(role.join);
    if (!m.HostOptions.SwarmOptions?.Master) throw new InvalidArgumentError(`--swarm-join ${role.join}: that machine is not a swarm manager`, { hint: `create the manager with \`berth machine create --swarm-manager NAME\`, or run docker swarm init on ${role.join}` });
  }
}

const post = (ip: string, port: number, path: string, body: unknown, tls: TlsMaterial) => engineRequest(ip, port, 'POST', path, tls, 90_000, body);

const message = (r: { status: number; body: string }) => {
  try { return JSON.parse(r.body).message as string; } catch { return `HTTP ${r.status}`; }
};

export const discoveryOf = (manager: string) => `berth-swarm://${manager}`;

export async function formSwarm(store: Store, host: HostConfig, driver: Driver, role: SwarmRole): Promise<void> {
  const ip = await driver.ip();
  const port = driver.enginePort();
  const tls = await loadTlsMaterial(clientTlsPaths(host));
  const manager = role.manager ? host.Name : role.join!;
  // a resumed create may find the engine in the swarm already
  const info = await engineGet(ip, port, '/v1.47/info', tls, 10_000);
  const active = info.status === 200 && JSON.parse(info.body).Swarm?.LocalNodeState === 'active';
  if (!active) await (role.manager ? init() : join());
  host.HostOptions.SwarmOptions = { ...host.HostOptions.SwarmOptions, IsSwarm: true, Master: Boolean(role.manager), Discovery: discoveryOf(manager) };

  async function init(): Promise<void> {
    const r = await post(ip, port, '/v1.47/swarm/init', { ListenAddr: '0.0.0.0:2377', AdvertiseAddr: ip }, tls);
    if (r.status !== 200) throw new ProvisionError(`swarm init on ${host.Name}: ${message(r)}`);
  }

  async function join(): Promise<void> {
    const m = await loadMachine(store, role.join!);
    const mip = await m.driver.ip();
    const mtls = await loadTlsMaterial(clientTlsPaths(m.host));
    const s = await engineGet(mip, m.driver.enginePort(), '/v1.47/swarm', mtls, 10_000);
    if (s.status !== 200) throw new ProvisionError(`reading the join token from ${role.join}: ${message(s)}`);
    const token = JSON.parse(s.body).JoinTokens.Worker as string;
    const r = await post(ip, port, '/v1.47/swarm/join', { ListenAddr: '0.0.0.0:2377', AdvertiseAddr: ip, RemoteAddrs: [`${mip}:2377`], JoinToken: token }, tls);
    if (r.status !== 200) throw new ProvisionError(`swarm join of ${host.Name} to ${role.join}: ${message(r)}`);
  }
}
