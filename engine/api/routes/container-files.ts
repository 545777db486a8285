/** Container endpoints about processes and files: top, stats, changes, export, archive, commit. */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Engine } from '../../engine.js';
import { ConflictError, InvalidArgumentError } from '../../errors.js';
import type { ContainerService } from '../../containers/service.js';
import type { ContainerRecord } from '../../containers/record.js';
import { isActive } from '../../containers/state.js';
import { top } from '../../containers/top.js';
import { sample, ZERO_CPU } from '../../containers/stats.js';
import { extractInto, statHeader, statInRoot, tarDir, tarPath } from '../../containers/archive.js';
import { commitConfig } from '../../containers/commit.js';
import { applyChanges } from '../../build/config-instructions.js';
import { bindMount, mountRootfs, unmountRootfs, isMounted } from '../../containers/rootfs.js';
import { resolveInRoot } from '../../containers/safepath.js';
import type { VolumeUser } from '../../volumes/index.js';
import { queryBool } from '../query.js';
import type { Router } from '../router.js';
import type { Readable } from 'node:stream';

/** Files the engine and runtime create as mount points; docker keeps them in an init layer, out of `diff`. */
const MOUNTPOINTS = new Set(['/etc/hostname', '/etc/hosts', '/etc/resolv.conf', '/dev', '/proc', '/sys', '/.dockerenv', '/sbin/docker-init']);

function hideRuntimeMountpoints(changes: { Path: string; Kind: number }[]): { Path: string; Kind: number }[] {
  const kept = changes.filter((c) => !MOUNTPOINTS.has(c.Path) && !/^\/(dev|proc|sys)\//.test(c.Path));
  // A directory shown as modified only because of hidden entries goes too.
  return kept.filter((c) => c.Kind !== 0 || !changes.some((h) => MOUNTPOINTS.has(h.Path) && h.Path.startsWith(c.Path + '/'))
    || kept.some((o) => o !== c && o.Path.startsWith(c.Path + '/')));
}

export function registerContainerFiles(router: Router, engine: Engine, svc: ContainerService): void {
  const event = (rec: ContainerRecord, action: string, extra: Record<string, string> = {}) =>
    engine.events.emit({ Type: 'container', Action: action, Actor: { ID: rec.id, Attributes: { image: rec.image, name: rec.name, ...extra } } });

  /** Roots mounted for API calls on stopped containers, shared by overlapping calls (docker cp: HEAD then PUT). */
  const held = new Map<string, { users: number; external: boolean; ready: Promise<void> }>();
  const closing = new Map<string, Promise<void>>();

  /** Runs fn with the container's root: the live one when it runs, else the snapshot mounted for the call. */
  async function withRoot<T>(rec: ContainerRecord, live: boolean, fn: (root: string) => Promise<T>, volumes = true): Promise<T> {
    if (live && isActive(rec.state)) return fn(`/proc/${rec.state.pid}/root`);
    const rootfs = svc.paths.rootfs(rec.id);
    let h = held.get(rec.id);
    if (!h) {
      const entry = { users: 0, external: false, ready: Promise.resolve() };
      entry.ready = (async () => {
        await closing.get(rec.id);
        if (await isMounted(rootfs)) { entry.external = true; return; }
        await mountRootfs(await engine.snapshots.mounts(rec.snapshotKey), rootfs);
        // As dockerd: the container's volumes and binds are part of what the archive API sees.
        if (volumes) await mountVolumesInto(rec, rootfs);
      })();
      h = entry;
      held.set(rec.id, h);
    }
    const mine = h;
    mine.users++;
    try {
      await mine.ready;
      return await fn(rootfs);
    } finally {
      if (--mine.users === 0) {
        held.delete(rec.id);
        if (!mine.external && !isActive(rec.state)) {
          const done = unmountRootfs(rootfs).catch(() => undefined).finally(() => { if (closing.get(rec.id) === done) closing.delete(rec.id); });
          closing.set(rec.id, done);
          await done;
        }
      }
    }
  }

  async function mountVolumesInto(rec: ContainerRecord, rootfs: string): Promise<void> {
    const volumes = engine.volumes as Partial<VolumeUser> | undefined;
    const sorted = [...rec.mounts].sort((a, b) => a.target.split('/').length - b.target.split('/').length);
    for (const m of sorted) {
      let source: string | undefined;
      if (m.type === 'bind') source = m.source;
      // A volume not made yet is made now, as dockerd has it from create (with the image's content).
      else if (m.type === 'volume' && (m.name || m.source) && volumes?.acquire) source = (await volumes.acquire(!m.source && m.name ? { ...m, source: m.name, anonymous: true } : m, rec.id, rootfs)).hostPath;
      if (!source || !existsSync(source)) continue;
      const target = resolveInRoot(rootfs, m.target);
      if (!existsSync(target)) {
        if (statSync(source).isDirectory()) mkdirSync(target, { recursive: true });
        else {
          mkdirSync(dirname(target), { recursive: true });
          writeFileSync(target, '');
        }
      }
      await bindMount(source, target, m.readOnly);
    }
  }

  async function streamOut(res: import('node:http').ServerResponse, body: Readable, headers: Record<string, string>): Promise<void> {
    res.writeHead(200, headers);
    await new Promise<void>((resolve) => {
      body.pipe(res);
      body.on('end', resolve);
      body.on('error', () => { res.destroy(); resolve(); });
      res.on('close', resolve);
    });
  }

  router.get('/containers/:id/top', async (ctx) => {
    const rec = svc.get(ctx.params.id);
    if (!isActive(rec.state)) throw new ConflictError(`Container ${rec.id} is not running`);
    const pids = await svc.runtime.ps(rec.id);
    event(rec, 'top');
    return top(pids, ctx.query.get('ps_args') ?? '');
  });

  router.get('/containers/:id/stats', async (ctx) => {
    const rec = svc.get(ctx.params.id);
    const stream = queryBool(ctx.query, 'stream', true);
    const oneShot = queryBool(ctx.query, 'one-shot');
    const take = async () => (isActive(rec.state) ? sample(rec.id, rec.state.pid, rec.name) : { read: '0001-01-01T00:00:00Z', name: `/${rec.name}`, id: rec.id, cpu_stats: ZERO_CPU, memory_stats: {}, pids_stats: {}, networks: {} });
    if (!stream) {
      let pre = { cpu_stats: ZERO_CPU, read: '0001-01-01T00:00:00Z' } as Record<string, unknown>;
      if (!oneShot && isActive(rec.state)) {
        pre = await take();
        await new Promise((r) => setTimeout(r, 200));
      }
      const cur = await take();
      return { ...cur, preread: pre.read, precpu_stats: pre.cpu_stats };
    }
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    let pre = { cpu_stats: ZERO_CPU, read: '0001-01-01T00:00:00Z' } as Record<string, unknown>;
    while (!ctx.signal.aborted) {
      const cur = await take();
      ctx.res.write(JSON.stringify({ ...cur, preread: pre.read, precpu_stats: pre.cpu_stats }) + '\n');
      pre = cur;
      if (!isActive(rec.state)) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    ctx.res.end();
  });

  router.get('/containers/:id/changes', async (ctx) => {
    const rec = svc.get(ctx.params.id);
    const changes = hideRuntimeMountpoints(await engine.snapshots.changes(rec.snapshotKey));
    return changes.length ? changes : null;
  });

  router.get('/containers/:id/export', async (ctx) => {
    const rec = svc.get(ctx.params.id);
    // docker export is the container's filesystem without its volumes.
    await withRoot(rec, false, (root) => streamOut(ctx.res, tarDir(root), { 'Content-Type': 'application/x-tar' }), false);
    event(rec, 'export');
  });

  const archiveStat = async (ctx: Parameters<Parameters<Router['get']>[1]>[0], withBody: boolean) => {
    const rec = svc.get(ctx.params.id);
    const path = ctx.query.get('path');
    if (!path) throw new InvalidArgumentError('path is required: give the path inside the container as ?path=');
    await withRoot(rec, true, async (root) => {
      const { host, stat } = await statInRoot(root, path);
      const headers = { 'X-Docker-Container-Path-Stat': statHeader(stat), 'Content-Type': 'application/x-tar' };
      if (!withBody) {
        ctx.res.writeHead(200, headers);
        ctx.res.end();
        return;
      }
      await streamOut(ctx.res, tarPath(host), headers);
      event(rec, 'archive-path');
    });
  };
  router.head('/containers/:id/archive', (ctx) => archiveStat(ctx, false));
  router.get('/containers/:id/archive', (ctx) => archiveStat(ctx, true));

  router.put('/containers/:id/archive', async (ctx) => {
    const rec = svc.get(ctx.params.id);
    const path = ctx.query.get('path');
    if (!path) throw new InvalidArgumentError('path is required: give the destination directory as ?path=');
    if (rec.hostConfig.ReadonlyRootfs) throw new ConflictError('container rootfs is marked read-only');
    const spool = join(engine.config.execRoot, 'spool', `${rec.id.slice(0, 12)}-${randomBytes(6).toString('hex')}.tar`);
    await withRoot(rec, true, (root) => extractInto(root, path, ctx.raw(), spool));
    event(rec, 'extract-to-dir');
    ctx.res.writeHead(200);
    ctx.res.end();
  });

  router.post('/commit', async (ctx) => {
    const ref = ctx.query.get('container');
    if (!ref) throw new InvalidArgumentError('container is required: give ?container=<id or name>');
    const rec = svc.get(ref);
    const body = await ctx.body();
    let config = commitConfig(rec.config, body);
    config = applyChanges(config, ctx.query.getAll('changes'));
    let pause = queryBool(ctx.query, 'pause', true) && rec.state.status === 'running';
    if (pause) {
      try {
        await svc.runtime.pause(rec.id);
      } catch (err) {
        // Exited since: dockerd pauses only a running container, so commit goes on unpaused.
        if (svc.store.find(rec.id)?.state.status === 'running' && await svc.runtime.state(rec.id).then((s) => s?.status === 'running', () => false)) throw err;
        pause = false;
      }
    }
    let id: string;
    try {
      id = await engine.images.commit({
        layerTar: engine.snapshots.diffTar(rec.snapshotKey),
        parentImageId: rec.imageId,
        config,
        repo: ctx.query.get('repo') || undefined,
        tag: ctx.query.get('tag') || undefined,
        comment: ctx.query.get('comment') || undefined,
        author: ctx.query.get('author') || undefined,
        container: rec.id,
      });
    } finally {
      if (pause) await svc.runtime.resume(rec.id).catch(() => undefined);
    }
    event(rec, 'commit', { comment: ctx.query.get('comment') ?? '' });
    ctx.json(201, { Id: id });
  });
}
