/** Network endpoints: HTTP <-> NetworkService. */
import type { Engine } from '../../engine.js';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../../errors.js';
import type { NetworkService } from '../../networks/service.js';
import { matchFilters } from '../../networks/filters.js';
import type { Swarm } from '../../swarm/index.js';
import { checkFilterKeys, queryFilters } from '../query.js';
import type { Router } from '../router.js';

/** The containers service as seen from here: a lookup of its records (engine/containers). */
interface ContainerRecordView { id: string; name: string; networkSettings: Record<string, any> }

function containerOf(engine: Engine, ref: string): ContainerRecordView | undefined {
  const get = engine.containers?.get as ((r: string) => ContainerRecordView) | undefined;
  return get?.call(engine.containers, ref);
}

/**
 * After connect/disconnect, the container's record shows the live settings (docker
 * inspect tells the truth). A container that is not running keeps the request in its
 * NetworkSettings.Networks, which containers hand to networking.attach at start.
 */
function remember(rec: ContainerRecordView | undefined, settings: Record<string, unknown> | null, network: string, endpoint: unknown): void {
  if (!rec) return;
  if (settings) rec.networkSettings = settings;
  else if (endpoint === null) delete rec.networkSettings?.Networks?.[network];
  else rec.networkSettings = { ...rec.networkSettings, Networks: { ...(rec.networkSettings?.Networks ?? {}), [network]: endpoint } };
}

export function register(router: Router, engine: Engine): void {
  const svc = () => engine.networks as unknown as NetworkService;
  const swarm = () => engine.swarm as unknown as Swarm | undefined;
  const active = () => swarm()?.localState() === 'active';

  /** A network this node has, else a swarm network a manager knows; NotFound as the node's lookup says. */
  const inspectAny = async (ref: string): Promise<Record<string, any>> => {
    try {
      return svc().inspect(ref);
    } catch (err) {
      if (!(err instanceof NotFoundError) || !active()) throw err;
      const found = await swarm()!.inspectNetwork(ref);
      if (!found) throw err;
      return found;
    }
  };

  router.get('/networks', async (ctx) => {
    const filters = queryFilters(ctx.query);
    checkFilterKeys(filters, ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type']);
    const local = svc().list(filters);
    const cluster = active() ? await swarm()!.listNetworks() : undefined;
    if (!cluster) return local;
    const have = new Set(local.map((n) => n.Id));
    const more = cluster.filter((n) => !have.has(n.Id) && matchFilters({ record: n, pool: null, pool6: null, bridge: null, mtu: 0, isDefault: false }, filters, 0));
    return [...local, ...more];
  });

  router.post('/networks/create', async (ctx) => {
    const body = await ctx.body();
    if (!body || typeof body !== 'object') throw new InvalidArgumentError('POST /networks/create needs a JSON body with a Name');
    if (body.Driver === 'overlay' && active()) {
      if (svc().list({ name: [body.Name] }).some((n) => n.Name === body.Name)) throw new ConflictError(`network with name ${body.Name} already exists`);
      ctx.json(201, await swarm()!.createNetwork(body));
      return;
    }
    ctx.json(201, await svc().create(body));
  });

  router.post('/networks/prune', async (ctx) => {
    const filters = queryFilters(ctx.query);
    checkFilterKeys(filters, ['until', 'label', 'label!']);
    return svc().prune(filters);
  });

  router.get('/networks/:id', async (ctx) => inspectAny(ctx.params.id));

  router.delete('/networks/:id', async (ctx) => {
    const n = await inspectAny(ctx.params.id);
    if (n.Scope === 'swarm' && active() && swarm()!.role() === 'manager') await swarm()!.removeNetwork(n.Id);
    else await svc().remove(ctx.params.id);
    ctx.res.writeHead(204).end();
  });

  router.post('/networks/:id/connect', async (ctx) => {
    const body = (await ctx.body()) ?? {};
    if (!body.Container) throw new InvalidArgumentError('POST /networks/{id}/connect needs a Container');
    const rec = containerOf(engine, body.Container);
    const id = rec?.id ?? body.Container;
    await svc().attachSwarmNetwork(ctx.params.id);
    const net = svc().inspect(ctx.params.id) as { Name: string; Driver: string };
    if (svc().settings(id) || !rec) {
      await svc().connect(ctx.params.id, id, body.EndpointConfig ?? {});
    } else {
      if (net.Driver !== 'bridge' && net.Driver !== 'overlay') throw new InvalidArgumentError(`container ${rec.name} cannot be connected to network ${net.Name}: only bridge networks can be connected`);
      if (rec.networkSettings?.Networks?.[net.Name]) throw new ConflictError(`endpoint with name ${rec.name} already exists in network ${net.Name}`);
    }
    remember(rec, svc().settings(id), net.Name, body.EndpointConfig ?? {});
    ctx.res.writeHead(200, { 'Content-Length': '0' }).end();
  });

  router.post('/networks/:id/disconnect', async (ctx) => {
    const body = (await ctx.body()) ?? {};
    if (!body.Container) throw new InvalidArgumentError('POST /networks/{id}/disconnect needs a Container');
    let rec: ContainerRecordView | undefined;
    try {
      rec = containerOf(engine, body.Container);
    } catch (err) {
      if (!body.Force) throw err;
    }
    const id = rec?.id ?? body.Container;
    const net = svc().inspect(ctx.params.id) as { Name: string };
    if (svc().settings(id) || !rec) await svc().disconnect(ctx.params.id, id, Boolean(body.Force));
    else if (!rec.networkSettings?.Networks?.[net.Name] && !body.Force) throw new NotFoundError(`container ${rec.name} is not connected to network ${net.Name}`);
    remember(rec, svc().settings(id), net.Name, null);
    ctx.res.writeHead(200, { 'Content-Length': '0' }).end();
  });
}
