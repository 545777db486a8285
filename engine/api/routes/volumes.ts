/** Volume endpoints: HTTP <-> VolumeService. */
import type { Engine } from '../../engine.js';
import type { VolumeService } from '../../volumes/service.js';
import { checkFilterKeys, queryBool, queryFilters } from '../query.js';
import type { Router } from '../router.js';

export function register(router: Router, engine: Engine): void {
  const svc = () => engine.volumes as unknown as VolumeService;

  router.get('/volumes', async (ctx) => {
    const filters = queryFilters(ctx.query);
    checkFilterKeys(filters, ['dangling', 'driver', 'label', 'name']);
    return { Volumes: svc().list(filters), Warnings: [] };
  });

  router.post('/volumes/create', async (ctx) => {
    ctx.json(201, await svc().create((await ctx.body()) ?? {}));
  });

  router.post('/volumes/prune', async (ctx) => {
    const filters = queryFilters(ctx.query);
    checkFilterKeys(filters, ['label', 'label!', 'all']);
    // API 1.42 made prune skip named volumes unless all=true
    return svc().prune(filters, ctx.versionAtLeast('1.42'));
  });

  router.get('/volumes/:name', async (ctx) => svc().inspect(ctx.params.name));

  router.delete('/volumes/:name', async (ctx) => {
    await svc().remove(ctx.params.name, queryBool(ctx.query, 'force'));
    ctx.res.writeHead(204).end();
  });
}
