/**
 * etcd's RBAC for the swarm store. Every etcd member runs with --client-cert-auth,
 * so once auth is on, a client's etcd user is the CN of its node certificate (the
 * node id). Managers' users have the root role. A worker's user has:
 *   swarm-worker    read: nodes/, alive/, tasks/, services/ (names, VIPs and ports for
 *                   DNS and the routing mesh), configs/, ca/ (CA rotation), networks/,
 *                   ping, leader; read and write: ipam/ (a node takes the overlay
 *                   addresses of its ingress endpoint and its attachable containers)
 *   node-<id>       read and write: alive/<id> (its heartbeat)
 * and nothing else: no secrets/ (sealed values; a worker gets a secret's value from a
 * manager's control port, only for its own tasks), no cluster/ (join tokens), no
 * writes to services/. A worker's task status reaches the store through a manager's control
 * port, which checks that the task is assigned to that node.
 */
import { randomBytes } from 'node:crypto';
import type { Etcd3, IPermissionRequest } from 'etcd3';
import { PREFIX } from './store.js';
import type { NodeRole } from './ca.js';

const WORKER_ROLE = 'swarm-worker';
const nodeRole = (id: string) => `node-${id}`;

/** etcd answers "already exists"/"not granted" to a repeat; those are fine here. */
async function idem(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!/already exists|not granted|not found/i.test((err as Error).message)) throw err;
  }
}

async function workerRole(client: Etcd3): Promise<void> {
  const { Range } = await import('etcd3');
  await idem(client.role(WORKER_ROLE).create());
  const perms: IPermissionRequest[] = [
    ...['nodes/', 'alive/', 'tasks/', 'services/', 'configs/', 'ca/', 'networks/'].map((p) => ({ permission: 'Read' as const, range: Range.prefix(`${PREFIX}${p}`) })),
    { permission: 'Readwrite', range: Range.prefix(`${PREFIX}ipam/`) },
    { permission: 'Read', key: `${PREFIX}ping` },
    { permission: 'Read', key: `${PREFIX}leader` },
  ];
  await client.role(WORKER_ROLE).grant(perms);
}

async function ensureUser(client: Etcd3, name: string): Promise<void> {
  // the password is never used: nodes authenticate with their certificate's CN
  await idem(client.user(name).create(randomBytes(24).toString('base64')));
}

/** Gives a node's etcd user the rights of its role (and takes the other role's away). */
export async function grantNode(client: Etcd3, nodeId: string, role: NodeRole): Promise<void> {
  await ensureUser(client, nodeId);
  if (role === 'manager') {
    await idem(client.user(nodeId).addRole('root'));
    return;
  }
  await idem(client.role(nodeRole(nodeId)).create());
  await client.role(nodeRole(nodeId)).grant({ permission: 'Readwrite', key: `${PREFIX}alive/${nodeId}` });
  await idem(client.user(nodeId).addRole(WORKER_ROLE));
  await idem(client.user(nodeId).addRole(nodeRole(nodeId)));
  await idem(client.user(nodeId).removeRole('root'));
}

/** A removed node's user and role go. */
export async function dropNode(client: Etcd3, nodeId: string): Promise<void> {
  await idem(client.user(nodeId).delete());
  await idem(client.role(nodeRole(nodeId)).delete());
}

/**
 * Turns auth on for the nodes the store knows (idempotent: the leader runs it when it
 * takes over, so a swarm made before RBAC gets it too).
 */
export async function enableAuth(client: Etcd3, nodes: { id: string; role: NodeRole }[]): Promise<void> {
  await workerRole(client);
  await ensureUser(client, 'root');
  await idem(client.user('root').addRole('root'));
  for (const n of nodes) await grantNode(client, n.id, n.role);
  await client.auth.authEnable({});
}
