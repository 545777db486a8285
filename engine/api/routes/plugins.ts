/**
 * Plugin endpoints: HTTP <-> PluginService (managed v2 plugins created from a tar).
 * Pulling, pushing and upgrading from a registry are 501 naming what is missing.
 */
import type { Engine } from '../../engine.js';
import { NotImplementedError } from '../../errors.js';
import type { PluginService } from '../../plugins/service.js';
import { checkFilterKeys, queryBool, queryFilters, queryInt } from '../query.js';
import type { Router } from '../router.js';

const NO_REGISTRY = 'berthd does not install plugins from registries (no plugin pull, install, push or upgrade): create one from a directory with `docker plugin create NAME DIR`';

export function register(router: Router, engine: Engine): void {
  const svc = () => engine.plugins as unknown as PluginService;

  router.get('/plugins', (ctx) => {
    const filters = queryFilters(ctx.query);
    checkFilterKeys(filters, ['capability', 'enable', 'enabled']);
    return svc().list(filters);
  });
  router.get('/plugins/privileges', (ctx) => svc().privileges(ctx.query.get('remote') ?? ''));
  router.post('/plugins/create', async (ctx) => {
    await svc().create(ctx.query.get('name') ?? '', ctx.raw());
    ctx.res.writeHead(204).end();
  });
  router.get('/plugins/:name+/json', (ctx) => svc().inspect(ctx.params.name));
  router.delete('/plugins/:name+', async (ctx) => svc().remove(ctx.params.name, queryBool(ctx.query, 'force')));
  router.post('/plugins/:name+/enable', async (ctx) => {
    await svc().enable(ctx.params.name, queryInt(ctx.query, 'timeout', 0));
    ctx.res.writeHead(200, { 'Content-Length': '0' }).end();
  });
  router.post('/plugins/:name+/disable', async (ctx) => {
    await svc().disable(ctx.params.name, queryBool(ctx.query, 'force'));
    ctx.res.writeHead(200, { 'Content-Length': '0' }).end();
  });
  router.post('/plugins/:name+/set', async (ctx) => {
    await svc().set(ctx.params.name, (await ctx.body()) ?? []);
    ctx.res.writeHead(204).end();
  });
  const unsupported = () => {
    throw new NotImplementedError(NO_REGISTRY);
  };
  router.post('/plugins/pull', unsupported);
  router.post('/plugins/:name+/upgrade', unsupported);
  router.post('/plugins/:name+/push', (ctx) => {
    svc().inspect(ctx.params.name);
    unsupported();
  });
}
