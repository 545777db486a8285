/**
 * Plugin endpoints: HTTP <-> PluginService (managed v2 plugins created from a tar or
 * pulled from a registry, pushed to one, upgraded from one).
 */
import type { Engine } from '../../engine.js';
import type { PluginService } from '../../plugins/service.js';
import { checkFilterKeys, queryBool, queryFilters, queryInt } from '../query.js';
import type { Ctx, JsonStream, Router } from '../router.js';
import { decodeRegistryAuth } from '../../images/registry/auth.js';


export function register(router: Router, engine: Engine): void {
  const svc = () => engine.plugins as unknown as PluginService;

  router.get('/plugins', (ctx) => {
    const filters = queryFilters(ctx.query);
    checkFilterKeys(filters, ['capability', 'enable', 'enabled']);
    return svc().list(filters);
  });
  const authOf = (ctx: Ctx) => decodeRegistryAuth(ctx.req.headers['x-registry-auth'] as string | undefined);
  router.get('/plugins/privileges', (ctx) => svc().privileges(ctx.query.get('remote') ?? '', authOf(ctx)));
  router.post('/plugins/pull', async (ctx) => {
    const granted = (await ctx.body()) ?? [];
    // As dockerd: an error before any progress is a plain HTTP error, after it a stream error line.
    let out: JsonStream | undefined;
    const remote = ctx.query.get('remote') ?? '';
    const name = svc().pullName(remote, ctx.query.get('name') ?? '');
    // the docker CLI enables the plugin by this name once the stream ends
    ctx.res.setHeader('Docker-Plugin-Name', name);
    await svc().pull(remote, name, granted, authOf(ctx), (status) => (out ??= ctx.stream()).write({ status }));
  });
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
  router.post('/plugins/:name+/upgrade', async (ctx) => {
    const granted = (await ctx.body()) ?? [];
    let out: JsonStream | undefined;
    await svc().upgrade(ctx.params.name, ctx.query.get('remote') ?? '', granted, authOf(ctx), (status) => (out ??= ctx.stream()).write({ status }));
  });
  router.post('/plugins/:name+/push', async (ctx) => {
    // A missing plugin is a plain 404, before the progress stream starts.
    svc().inspect(ctx.params.name);
    const out = ctx.stream();
    await svc().push(ctx.params.name, authOf(ctx), (m) => out.write(m));
  });
}
