/** Container endpoints: HTTP <-> ContainerService, nothing more. */
import type { Duplex } from 'node:stream';
import type { Engine } from '../../engine.js';
import { InvalidArgumentError, NotFoundError, NotImplementedError } from '../../errors.js';
import type { ContainerService } from '../../containers/service.js';
import { isActive } from '../../containers/state.js';
import { join as joinAttach, parseDetachKeys, DEFAULT_DETACH_KEYS } from '../../containers/attach.js';
import { readLogs, unixParamNanos } from '../../containers/logs.js';
import { inspectView, summaryView } from '../../containers/views.js';
import { makeFilter } from '../../containers/filters.js';
import type { WaitCondition } from '../../containers/waiters.js';
import type { VolumeUser } from '../../volumes/index.js';
import { parsePlatform } from '../../images/platform.js';
import { queryBool, queryFilters, queryInt } from '../query.js';
import type { Readable } from 'node:stream';
import type { Ctx, Router } from '../router.js';
import { registerContainerFiles } from './container-files.js';

const RAW = 'application/vnd.docker.raw-stream';
const MUX = 'application/vnd.docker.multiplexed-stream';

export function streamContentType(ctx: Ctx, tty: boolean): string {
  return tty || !ctx.versionAtLeast('1.42') ? RAW : MUX;
}

/** A log stream as the answer: headers at once (clients wait for them), then the stream until it ends or the client goes. */
export async function sendLogStream(ctx: Ctx, stream: Readable, tty: boolean): Promise<void> {
  ctx.res.writeHead(200, { 'Content-Type': streamContentType(ctx, tty) });
  ctx.res.flushHeaders();
  await new Promise<void>((resolve) => {
    stream.pipe(ctx.res);
    stream.on('end', resolve);
    stream.on('error', () => { ctx.res.destroy(); resolve(); });
    ctx.res.on('close', () => { stream.destroy(); resolve(); });
  });
}

function parseTime(v: string | null, name: string): number {
  if (!v) return 0;
  if (!/^\d+(\.\d+)?$/.test(v)) {
    const t = Date.parse(v);
    if (Number.isNaN(t)) throw new InvalidArgumentError(`invalid value for "${name}": ${v}: use a unix timestamp or RFC 3339 time`);
    return t / 1000;
  }
  return Number(v);
}

export function parseTimeNanos(v: string | null, name: string): bigint {
  if (!v) return 0n;
  if (/^\d+(\.\d+)?$/.test(v)) return unixParamNanos(v);
  return BigInt(Math.round(parseTime(v, name) * 1000)) * 1_000_000n;
}

export function register(router: Router, engine: Engine): void {
  const svc = engine.containers as unknown as ContainerService;

  router.post('/containers/create', async (ctx) => {
    const body = await ctx.body();
    // As dockerd: a malformed platform is a 400 before anything else is looked at.
    const platform = ctx.query.get('platform');
    const result = await svc.create(body, ctx.query.get('name') || undefined, platform ? parsePlatform(platform) : undefined);
    ctx.json(201, result);
  });

  router.get('/containers/json', async (ctx) => {
    const all = queryBool(ctx.query, 'all');
    const limit = queryInt(ctx.query, 'limit', -1)!;
    const size = queryBool(ctx.query, 'size');
    const filters = queryFilters(ctx.query);
    const match = makeFilter(filters, (r) => svc.store.find(r), (r) => svc.health.of(r.id)?.Status ?? 'none', (rec, ref) => rec.image === ref || rec.imageId === ref || rec.imageId.startsWith(`sha256:${ref}`) || rec.image === `${ref}:latest`);
    let recs = svc.list().filter((r) => (all || limit > 0 || filters.status || filters.exited ? true : isActive(r.state) || r.state.status === 'restarting') && match(r));
    recs.sort((a, b) => Date.parse(b.created) - Date.parse(a.created));
    if (limit > 0) recs = recs.slice(0, limit);
    const imageSize = async (id: string) => (await engine.images.resolve(id).catch(() => undefined))?.size ?? 0;
    return Promise.all(recs.map(async (r) => {
      const sizes = size ? { rw: await engine.snapshots.usage(r.snapshotKey).catch(() => 0), image: await imageSize(r.imageId) } : undefined;
      return summaryView(r, sizes, svc.health.of(r.id));
    }));
  });

  router.get('/containers/:id/json', async (ctx) => {
    const rec = svc.get(ctx.params.id);
    const mounts = await engine.snapshots.mounts(rec.snapshotKey).catch(() => undefined);
    const sizeRw = queryBool(ctx.query, 'size')
      ? { rw: await engine.snapshots.usage(rec.snapshotKey).catch(() => 0), image: (await engine.images.resolve(rec.imageId).catch(() => undefined))?.size ?? 0 }
      : undefined;
    const execs = (engine.containers as unknown as { execs?: { idsOf(id: string): string[] } }).execs;
    const volumes = engine.volumes as Partial<VolumeUser> | undefined;
    return inspectView(rec, { mounts, mergedDir: svc.paths.rootfs(rec.id), sizeRw, execIds: execs?.idsOf(rec.id) ?? [], health: svc.health.of(rec.id), volumePath: volumes?.mountpoint?.bind(volumes), volumeDriver: volumes?.driverOf?.bind(volumes) });
  });

  router.post('/containers/:id/start', async (ctx) => {
    if (ctx.query.get('checkpoint')) throw new NotImplementedError('checkpoints are not supported by berthd');
    await svc.start(ctx.params.id);
    ctx.res.writeHead(204);
    ctx.res.end();
  });

  const stopOpts = (ctx: Ctx) => ({ signal: ctx.query.get('signal') || undefined, timeout: queryInt(ctx.query, 't') });
  router.post('/containers/:id/stop', async (ctx) => { await svc.stop(ctx.params.id, stopOpts(ctx)); });
  router.post('/containers/:id/restart', async (ctx) => { await svc.restart(ctx.params.id, stopOpts(ctx)); });
  router.post('/containers/:id/kill', async (ctx) => { await svc.kill(ctx.params.id, ctx.query.get('signal') || undefined); });
  router.post('/containers/:id/pause', async (ctx) => { await svc.pause(ctx.params.id); });
  router.post('/containers/:id/unpause', async (ctx) => { await svc.unpause(ctx.params.id); });
  router.post('/containers/:id/rename', async (ctx) => { await svc.rename(ctx.params.id, ctx.query.get('name') ?? ''); });
  router.post('/containers/:id/update', async (ctx) => svc.update(ctx.params.id, (await ctx.body()) ?? {}));
  router.post('/containers/:id/resize', async (ctx) => {
    await svc.resize(ctx.params.id, queryInt(ctx.query, 'h', 0)!, queryInt(ctx.query, 'w', 0)!);
    ctx.res.writeHead(200);
    ctx.res.end();
  });

  router.delete('/containers/:id+', async (ctx) => {
    if (queryBool(ctx.query, 'link')) return svc.removeLink(ctx.params.id);
    if (ctx.params.id.includes('/')) throw new NotFoundError(`No such container: ${ctx.params.id}`);
    await svc.remove(ctx.params.id, { force: queryBool(ctx.query, 'force'), volumes: queryBool(ctx.query, 'v') });
  });

  router.post('/containers/:id/wait', async (ctx) => {
    const cond = (ctx.query.get('condition') || 'not-running') as WaitCondition;
    if (!['not-running', 'next-exit', 'removed'].includes(cond)) throw new InvalidArgumentError(`invalid condition: "${cond}": use not-running, next-exit or removed`);
    const { result } = svc.waitRegistered(ctx.params.id, cond);
    // The CLI registers its wait before start: answer the headers at once.
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    ctx.res.flushHeaders();
    const r = await result;
    ctx.res.end(JSON.stringify(r) + '\n');
  });

  router.post('/containers/prune', async (ctx) => {
    const filters = queryFilters(ctx.query);
    for (const k of Object.keys(filters)) if (k !== 'until' && k !== 'label' && k !== 'label!') throw new InvalidArgumentError(`invalid filter '${k}'`);
    const until = filters.until?.length ? parseTime(filters.until[0], 'until') * 1000 : Infinity;
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const rec of svc.list()) {
      if (isActive(rec.state) || rec.state.status === 'restarting') continue;
      if (Date.parse(rec.created) >= until) continue;
      const labels = rec.config.Labels ?? {};
      const has = (l: string) => { const [k, v] = l.split('='); return v === undefined ? k in labels : labels[k] === v; };
      if (filters.label && !filters.label.every(has)) continue;
      if (filters['label!'] && filters['label!'].some(has)) continue;
      reclaimed += await engine.snapshots.usage(rec.snapshotKey).catch(() => 0);
      await svc.remove(rec.id, {});
      deleted.push(rec.id);
    }
    engine.events.emit({ Type: 'container', Action: 'prune', Actor: { ID: '', Attributes: { reclaimed: String(reclaimed) } } });
    return { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
  });

  router.get('/containers/:id/logs', async (ctx) => {
    const rec = svc.get(ctx.params.id);
    const stdout = queryBool(ctx.query, 'stdout');
    const stderr = queryBool(ctx.query, 'stderr');
    if (!stdout && !stderr) throw new InvalidArgumentError('Bad parameters: you must choose at least one stream');
    if (rec.hostConfig.LogConfig?.Type === 'none') throw new NotImplementedError('configured logging driver does not support reading');
    const tailQ = ctx.query.get('tail');
    const tail = !tailQ || tailQ === 'all' ? -1 : Number(tailQ);
    if (!Number.isInteger(tail)) throw new InvalidArgumentError(`invalid tail ${tailQ}: use a number or "all"`);
    const stream = readLogs(rec.logPath, {
      stdout, stderr, tail,
      since: parseTimeNanos(ctx.query.get('since'), 'since'),
      until: parseTimeNanos(ctx.query.get('until'), 'until'),
      timestamps: queryBool(ctx.query, 'timestamps'),
      follow: queryBool(ctx.query, 'follow'),
      tty: !!rec.config.Tty,
    }, () => isActive(svc.store.find(rec.id)?.state ?? { status: 'dead', exitCode: 0, startedAt: '', finishedAt: '' }), ctx.signal);
    await sendLogStream(ctx, stream, !!rec.config.Tty);
  });

  router.post('/containers/:id/attach', async (ctx) => {
    const rec = svc.get(ctx.params.id);
    const streams = { stdin: queryBool(ctx.query, 'stdin'), stdout: queryBool(ctx.query, 'stdout'), stderr: queryBool(ctx.query, 'stderr') };
    const detachKeys = parseDetachKeys(ctx.query.get('detachKeys') || DEFAULT_DETACH_KEYS);
    const logs = queryBool(ctx.query, 'logs');
    const stream = queryBool(ctx.query, 'stream');
    if (!streams.stdout && !streams.stderr && !streams.stdin) throw new InvalidArgumentError('Bad parameters: you must choose at least one stream');
    // Some clients (dockerode) send the options as a JSON body before stdin: consume it first.
    if (Number(ctx.req.headers['content-length'] ?? 0) > 0) await ctx.body().catch(() => undefined);
    // dockerd drops the client's stdin when the container has none open (-i), tty or not.
    const stdin = streams.stdin && !!rec.config.OpenStdin;
    const pending = stream ? svc.attachStreams(rec.id, { ...streams, stdin }) : undefined;
    // Awaited after the hijack; a rejection before that must not go unhandled.
    pending?.catch(() => undefined);
    let client: Duplex;
    try {
      client = await ctx.hijack(streamContentType(ctx, !!rec.config.Tty));
    } catch (err) {
      svc.cancelPendingAttach(rec.id);
      throw err;
    }
    engine.events.emit({ Type: 'container', Action: 'attach', Actor: { ID: rec.id, Attributes: { image: rec.image, name: rec.name } } });
    if (logs && rec.hostConfig.LogConfig?.Type !== 'none') {
      const past = readLogs(rec.logPath, { stdout: streams.stdout, stderr: streams.stderr, tail: -1, since: 0n, until: 0n, timestamps: false, follow: false, tty: !!rec.config.Tty }, () => false);
      for await (const chunk of past) client.write(chunk);
    }
    if (!pending) { client.end(); return; }
    let monitor;
    try {
      monitor = await pending;
    } catch {
      // The container failed to start: the client sees the stream end; wait/start carry the error.
      client.end();
      return;
    }
    await joinAttach(client, monitor, {
      stdin,
      // as dockerd: detach keys on a tty only; stdin's end ends the attach unless StdinOnce closes the stdin of a non-tty
      detachKeys: rec.config.Tty ? detachKeys : Buffer.alloc(0),
      endOnStdinEof: !!rec.config.Tty || !rec.config.StdinOnce,
      onDetach: () => engine.events.emit({ Type: 'container', Action: 'detach', Actor: { ID: rec.id, Attributes: { image: rec.image, name: rec.name } } }),
    });
  });

  registerContainerFiles(router, engine, svc);
}
