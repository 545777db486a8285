/** Exec endpoints: HTTP <-> ExecService. */
import type { Engine } from '../../engine.js';
import type { ExecService } from '../../containers/exec.js';
import { join as joinAttach, parseDetachKeys, DEFAULT_DETACH_KEYS } from '../../containers/attach.js';
import { queryInt } from '../query.js';
import type { Router } from '../router.js';
import { streamContentType } from './containers.js';

export function register(router: Router, engine: Engine): void {
  const execs = (engine.containers as unknown as { execs: ExecService }).execs;

  router.post('/containers/:id/exec', async (ctx) => {
    const body = (await ctx.body()) ?? {};
    parseDetachKeys(body.DetachKeys || DEFAULT_DETACH_KEYS);
    ctx.json(201, execs.create(ctx.params.id, body));
  });

  router.post('/exec/:id/start', async (ctx) => {
    const body = (await ctx.body()) ?? {};
    const e = execs.get(ctx.params.id);
    const tty = body.Tty ?? !!e.config.Tty;
    if (body.Detach) {
      await execs.start(e.id, { detach: true, tty, consoleSize: body.ConsoleSize ?? undefined });
      ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
      ctx.res.end();
      return;
    }
    const conn = await execs.start(e.id, { detach: false, tty, consoleSize: body.ConsoleSize ?? undefined });
    const client = await ctx.hijack(streamContentType(ctx, tty));
    if (!conn) {
      await execs.exited(e.id);
      client.end();
      return;
    }
    await joinAttach(client, conn, {
      stdin: !!e.config.AttachStdin,
      detachKeys: parseDetachKeys(e.config.DetachKeys || DEFAULT_DETACH_KEYS),
      beforeEnd: () => execs.exited(e.id),
    });
  });

  router.post('/exec/:id/resize', async (ctx) => {
    await execs.resize(ctx.params.id, queryInt(ctx.query, 'h', 0)!, queryInt(ctx.query, 'w', 0)!);
    ctx.res.writeHead(200);
    ctx.res.end();
  });

  router.get('/exec/:id/json', (ctx) => execs.inspect(ctx.params.id));
}
