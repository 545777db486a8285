/** Network endpoints: HTTP <-> NetworkService. */
import type { Engine } from '../../engine.js';
import { InvalidArgumentError } from '../../errors.js';
import type { NetworkService } from '../../networks/service.js';
import { checkFilterKeys, queryFilters } from '../query.js';
import type { Router } from '../router.js';

/** The id of a container reference, through the containers service when there is one. */
function containerId(engine: Engine, ref: string): string {
  const get = engine.containers?.get as ((r: string) => { id: string }) | undefined;
  return get ? get.call(engine.containers, ref).id : ref;
}

export function register(router: Router, engine: Engine): void {
  const svc = () => engine.networks as unknown as NetworkService;

  router.get('/networks', async (ctx) => {
    const filters = queryFilters(ctx.query);
    checkFilterKeys(filters, ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type']);
    return svc().list(filters);
  });

  router.post('/networks/create', async (ctx) => {
    const body = await ctx.body();
    if (!body || typeof body !== 'object') throw new InvalidArgumentError('POST /networks/create needs a JSON body with a Name');
    ctx.json(201, await svc().create(body));
  });

  router.post('/networks/prune', async (ctx) => {
    const filters = queryFilters(ctx.query);
    checkFilterKeys(filters, ['until', 'label', 'label!']);
    return svc().prune(filters);
  });

  router.get('/networks/:id', async (ctx) => svc().inspect(ctx.params.id));

  router.delete('/networks/:id', async (ctx) => {
    await svc().remove(ctx.params.id);
    ctx.res.writeHead(204).end();
  });

  router.post('/networks/:id/connect', async (ctx) => {
    const body = (await ctx.body()) ?? {};
    if (!body.Container) throw new InvalidArgumentError('POST /networks/{id}/connect needs a Container');
    await svc().connect(ctx.params.id, containerId(engine, body.Container), body.EndpointConfig ?? {});
    ctx.res.writeHead(200, { 'Content-Length': '0' }).end();
  });

  router.post('/networks/:id/disconnect', async (ctx) => {
    const body = (await ctx.body()) ?? {};
    if (!body.Container) throw new InvalidArgumentError('POST /networks/{id}/disconnect needs a Container');
    let id = body.Container as string;
    try {
      id = containerId(engine, id);
    } catch (err) {
      if (!body.Force) throw err;
    }
    await svc().disconnect(ctx.params.id, id, Boolean(body.Force));
    ctx.res.writeHead(200, { 'Content-Length': '0' }).end();
  });
}
