/** Image endpoints: HTTP in, ImageService calls, docker JSON out. */
import type { Engine } from '../../engine.js';
import { InvalidArgumentError } from '../../errors.js';
import { decodeRegistryAuth } from '../../images/registry/auth.js';
import { queryBool, queryFilters } from '../query.js';
import type { Ctx, JsonStream, Router } from '../router.js';
import type { ProgressMessage } from '../../images/index.js';
import { imageHistory, imageInspect, imageSummary } from './image-views.js';
import { registerImageTransfer } from './images-transfer.js';

export function register(router: Router, engine: Engine): void {
  const images = engine.images;

  router.post('/images/create', async (ctx) => {
    const fromImage = ctx.query.get('fromImage');
    const fromSrc = ctx.query.get('fromSrc');
    if (!fromImage && !fromSrc) throw new InvalidArgumentError('POST /images/create needs fromImage (pull) or fromSrc (import)');
    if (fromImage) return pull(ctx, engine, fromImage);
    if (fromSrc !== '-') throw new InvalidArgumentError(`fromSrc=${fromSrc}: only "-" (the request body) is supported; download the tar first`);
    const out = ctx.stream();
    const id = await images.importTar(ctx.raw(), {
      repo: ctx.query.get('repo') ?? undefined,
      tag: ctx.query.get('tag') ?? undefined,
      message: ctx.query.get('message') ?? undefined,
      platform: ctx.query.get('platform') ?? undefined,
      changes: ctx.query.getAll('changes'),
    });
    out.write({ status: id });
  });

  router.get('/images/json', async (ctx) => {
    const list = await images.list({ all: queryBool(ctx.query, 'all'), filters: queryFilters(ctx.query) });
    list.sort((a, b) => Date.parse(b.created) - Date.parse(a.created));
    return list.map((i) => imageSummary(i, ctx.version));
  });

  router.post('/images/prune', async (ctx) => images.prune(queryFilters(ctx.query)));

  router.get('/images/:name+/json', async (ctx) => {
    const img = await images.resolve(ctx.params.name);
    const data: Record<string, string> = {};
    if (img.chainId) {
      const dirs = await images.layerDirs.lowerDirs(img.chainId);
      data.UpperDir = dirs[0];
      if (dirs.length > 1) data.LowerDir = dirs.slice(1).join(':');
    }
    return imageInspect(img, engine.snapshots.driver, data, ctx.version);
  });

  router.get('/images/:name+/history', async (ctx) => {
    const img = await images.resolve(ctx.params.name);
    const sizes = await images.layerSizes(img);
    return imageHistory(img, sizes);
  });

  router.post('/images/:name+/tag', async (ctx) => {
    const repo = ctx.query.get('repo');
    if (!repo) throw new InvalidArgumentError('POST /images/{name}/tag needs repo');
    await images.tag(ctx.params.name, repo, ctx.query.get('tag') || undefined);
    ctx.res.writeHead(201, { 'Content-Length': '0' });
    ctx.res.end();
  });

  router.delete('/images/:name+', async (ctx) =>
    images.remove(ctx.params.name, { force: queryBool(ctx.query, 'force'), noprune: queryBool(ctx.query, 'noprune') }, (id) => engine.containers?.usingImage?.(id)),
  );

  registerImageTransfer(router, engine);
}

async function pull(ctx: Ctx, engine: Engine, fromImage: string): Promise<void> {
  const tag = ctx.query.get('tag');
  let ref = fromImage;
  if (tag) ref = tag.startsWith('sha256:') ? `${fromImage}@${tag}` : `${fromImage}:${tag}`;
  const auth = decodeRegistryAuth(ctx.req.headers['x-registry-auth'] as string | undefined);
  const platform = ctx.query.get('platform') || undefined;
  // Answer errors found before any download (bad reference, unknown repository or
  // tag, auth) with a plain status: hold the stream until real progress starts.
  let out: JsonStream | undefined;
  const held: ProgressMessage[] = [];
  await engine.images.pull(ref, { auth, platform, signal: ctx.signal }, (m) => {
    if (!out && m.status?.startsWith('Pulling from')) {
      held.push(m);
      return;
    }
    if (!out) {
      out = ctx.stream();
      for (const h of held) out.write(h);
    }
    out.write(m);
  });
}
