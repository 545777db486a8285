/** Swarm endpoints (/swarm, /nodes, /services, /tasks, /secrets, /configs): HTTP <-> engine/swarm. */
import type { Engine } from '../../engine.js';
import { InvalidArgumentError, UnavailableError } from '../../errors.js';
import type { SecretKind, Swarm } from '../../swarm/index.js';
import { NOT_MANAGER, NO_SWARM } from '../../swarm/spec.js';
import { checkFilterKeys, queryBool, queryFilters } from '../query.js';
import type { Ctx, Router } from '../router.js';
import { parseTimeNanos, sendLogStream } from './containers.js';

function versionOf(ctx: Ctx): number {
  const v = ctx.query.get('version');
  if (v === null || !/^\d+$/.test(v)) throw new InvalidArgumentError('invalid or missing version query parameter: pass the object\'s Version.Index (as `docker ... inspect` shows it)');
  return Number(v);
}

export function register(router: Router, engine: Engine): void {
  const swarm = (): Swarm => {
    const s = engine.swarm as Swarm | undefined;
    if (!s) throw new UnavailableError(NOT_MANAGER);
    return s;
  };

  router.get('/swarm', () => swarm().inspect());
  router.post('/swarm/init', async (ctx) => swarm().init((await ctx.body()) ?? {}));
  router.post('/swarm/join', async (ctx) => {
    await swarm().join((await ctx.body()) ?? {});
    ctx.res.writeHead(200).end();
  });
  router.post('/swarm/leave', async (ctx) => {
    const s = engine.swarm as Swarm | undefined;
    if (!s) throw new UnavailableError(NO_SWARM);
    await s.leave(queryBool(ctx.query, 'force'));
    ctx.res.writeHead(200).end();
  });
  router.post('/swarm/update', async (ctx) => {
    await swarm().update(versionOf(ctx), await ctx.body(), {
      rotateWorkerToken: queryBool(ctx.query, 'rotateWorkerToken'),
      rotateManagerToken: queryBool(ctx.query, 'rotateManagerToken'),
      rotateManagerUnlockKey: queryBool(ctx.query, 'rotateManagerUnlockKey'),
    });
    ctx.res.writeHead(200).end();
  });
  router.get('/swarm/unlockkey', async () => {
    await swarm().inspect();
    return { UnlockKey: '' };
  });
  router.post('/swarm/unlock', async () => {
    await swarm().inspect();
    throw new InvalidArgumentError('swarm is not locked');
  });

  router.get('/nodes', async (ctx) => {
    const f = queryFilters(ctx.query);
    checkFilterKeys(f, ['id', 'label', 'membership', 'name', 'node.label', 'role']);
    return swarm().listNodes(f);
  });
  router.get('/nodes/:id', (ctx) => swarm().inspectNode(ctx.params.id));
  router.post('/nodes/:id/update', async (ctx) => {
    await swarm().updateNode(ctx.params.id, versionOf(ctx), await ctx.body());
    ctx.res.writeHead(200).end();
  });
  router.delete('/nodes/:id', async (ctx) => {
    await swarm().removeNode(ctx.params.id, queryBool(ctx.query, 'force'));
    ctx.res.writeHead(200).end();
  });

  router.get('/services', async (ctx) => {
    const f = queryFilters(ctx.query);
    checkFilterKeys(f, ['id', 'label', 'mode', 'name']);
    return swarm().listServices(f, queryBool(ctx.query, 'status'));
  });
  router.post('/services/create', async (ctx) => ctx.json(201, await swarm().createService(await ctx.body())));
  router.get('/services/:id', (ctx) => swarm().inspectService(ctx.params.id));
  router.post('/services/:id/update', async (ctx) => swarm().updateService(ctx.params.id, versionOf(ctx), await ctx.body(), ctx.query.get('rollback') === 'previous'));
  router.delete('/services/:id', async (ctx) => {
    await swarm().removeService(ctx.params.id);
    ctx.res.writeHead(200).end();
  });

  for (const kind of ['service', 'task'] as const) {
    router.get(`/${kind}s/:id/logs`, async (ctx) => {
      const stdout = queryBool(ctx.query, 'stdout');
      const stderr = queryBool(ctx.query, 'stderr');
      if (!stdout && !stderr) throw new InvalidArgumentError('Bad parameters: you must choose at least one stream');
      const tailQ = ctx.query.get('tail');
      const tail = !tailQ || tailQ === 'all' ? -1 : Number(tailQ);
      if (!Number.isInteger(tail)) throw new InvalidArgumentError(`invalid tail ${tailQ}: use a number or "all"`);
      const { tty, stream } = await swarm().logs(kind, ctx.params.id, {
        stdout, stderr, tail, since: parseTimeNanos(ctx.query.get('since'), 'since'),
        timestamps: queryBool(ctx.query, 'timestamps'), details: queryBool(ctx.query, 'details'), follow: queryBool(ctx.query, 'follow'),
      }, ctx.signal);
      await sendLogStream(ctx, stream, tty);
    });
  }

  router.get('/tasks', async (ctx) => {
    const f = queryFilters(ctx.query);
    checkFilterKeys(f, ['_up-to-date', 'desired-state', 'id', 'label', 'name', 'node', 'service']);
    return swarm().listTasks(f);
  });
  router.get('/tasks/:id', (ctx) => swarm().inspectTask(ctx.params.id));

  for (const kind of ['secrets', 'configs'] as SecretKind[]) {
    router.get(`/${kind}`, async (ctx) => {
      const f = queryFilters(ctx.query);
      checkFilterKeys(f, ['id', 'label', 'name', 'names']);
      return swarm().listSecrets(kind, f);
    });
    router.post(`/${kind}/create`, async (ctx) => ctx.json(201, await swarm().createSecret(kind, await ctx.body())));
    router.get(`/${kind}/:id`, (ctx) => swarm().inspectSecret(kind, ctx.params.id));
    router.post(`/${kind}/:id/update`, async (ctx) => {
      await swarm().updateSecret(kind, ctx.params.id, versionOf(ctx), await ctx.body());
      ctx.res.writeHead(200).end();
    });
    router.delete(`/${kind}/:id`, async (ctx) => {
      await swarm().removeSecret(kind, ctx.params.id);
      ctx.res.writeHead(204).end();
    });
  }
}
