/** Push, save, load and search endpoints. */
import type { Engine } from '../../engine.js';
import { InvalidArgumentError } from '../../errors.js';
import { decodeRegistryAuth } from '../../images/registry/auth.js';
import { queryBool, queryInt } from '../query.js';
import type { Ctx, Router } from '../router.js';

export function registerImageTransfer(router: Router, engine: Engine): void {
  const images = engine.images;
  const authOf = (ctx: Ctx) => decodeRegistryAuth(ctx.req.headers['x-registry-auth'] as string | undefined);

  router.post('/images/:name+/push', async (ctx) => {
    const auth = authOf(ctx);
    const tag = ctx.query.get('tag') || undefined;
    // A missing image is a plain 404, before the progress stream starts.
    if (tag) await images.resolve(`${ctx.params.name}:${tag}`);
    const out = ctx.stream();
    await images.push(ctx.params.name, tag, auth, (m) => out.write(m));
  });

  const save = async (ctx: Ctx, names: string[]) => {
    if (names.length === 0) throw new InvalidArgumentError('GET /images/get needs names=');
    const tar = await images.save(names);
    ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    tar.on('error', () => ctx.res.destroy());
    tar.pipe(ctx.res);
    await new Promise<void>((resolve) => ctx.res.on('close', resolve));
  };
  router.get('/images/get', (ctx) => save(ctx, ctx.query.getAll('names')));
  router.get('/images/:name+/get', (ctx) => save(ctx, [ctx.params.name]));

  router.post('/images/load', async (ctx) => {
    const quiet = queryBool(ctx.query, 'quiet');
    const out = ctx.stream();
    await images.load(ctx.raw(), (m) => {
      if (!quiet || m.stream) out.write(m);
    });
  });

  router.get('/distribution/:name+/json', (ctx) => images.distribution(ctx.params.name, authOf(ctx)));

  router.get('/images/search', async (ctx) => {
    const term = ctx.query.get('term') ?? '';
    const limit = queryInt(ctx.query, 'limit', 25) ?? 25;
    return images.search(term, limit, authOf(ctx));
  });
}
