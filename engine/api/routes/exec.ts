/** Exec endpoints: HTTP <-> ExecService. */
import type { Engine } from '../../engine.js';
import { ExecStartError, type ExecService } from '../../containers/exec.js';
import { join as joinAttach, parseDetachKeys, DEFAULT_DETACH_KEYS } from '../../containers/attach.js';
import { frame, STDOUT } from '../../containers/frames.js';
import { log } from '../../log.js';
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
    const e = execs.checkStartable(ctx.params.id);
    // The process's terminal is the one asked for at create: clients send {"Tty": false} here regardless.
    const tty = !!e.config.Tty;
    const consoleSize = body.ConsoleSize ?? undefined;
    if (body.Detach) {
      await execs.start(e.id, { detach: true, consoleSize });
      ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
      ctx.res.end();
      return;
    }
    // As dockerd: the response head goes out before the process starts. Clients that read the
    // head through a buffered reader (python's http.client) lose output sent in the same packet.
    const client = await ctx.hijack(streamContentType(ctx, tty));
    let conn;
    try {
      conn = await execs.start(e.id, { detach: false, consoleSize });
    } catch (err) {
      // The answer is sent: as dockerd, the reason goes down the stream and the exec has failed.
      execs.failed(e.id);
      if (!(err instanceof ExecStartError)) log.error(`exec ${e.id.slice(0, 12)} start: ${(err as Error).stack ?? err}`);
      const line = Buffer.from(`${ctx.errorText(err)}\r\n`);
      client.end(tty ? line : frame(STDOUT, line));
      return;
    }
    if (!conn) {
      await execs.exited(e.id);
      client.end();
      return;
    }
    await joinAttach(client, conn, {
      stdin: !!e.config.AttachStdin,
      // as dockerd: detach keys on a tty only; there, stdin's end ends the attach (elsewhere it closes the process's stdin)
      detachKeys: tty ? parseDetachKeys(e.config.DetachKeys || DEFAULT_DETACH_KEYS) : Buffer.alloc(0),
      endOnStdinEof: tty,
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
