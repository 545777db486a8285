/**
 * Composition root: builds the Engine's services, registers every routes module
 * and opens the listeners.
 *
 * On-disk layout:
 *   data-root/
 *     berthd.lock     one berthd per data-root (lock.ts)
 *     engine-id       this engine's id
 *     content/        blobs by digest: content/sha256/<hex>; ingest/ holds partial downloads
 *     images/         image metadata: images/index.json (tags -> ids), images/<hex>.json
 *     layers/         unpacked layers by chain id: layers/<hex>/{diff/,layer.json}
 *     snapshots/      writable snapshots by key: snapshots/<key>/{upper,work}|{fs}
 *     containers/     (containers service)
 *     tmp/            archives being loaded (emptied at start)
 *     volumes/        (volumes service)
 *     networks/       (networks service)
 *     swarm/          (swarm mode: state.json, certs/, etcd/ — engine/swarm/state.ts)
 *     plugins/        managed plugins (engine/plugins/index.ts)
 *   exec-root/
 *     berthd.sock     default -H
 *     berthd.pid      default --pidfile
 *     bundles/        OCI bundles (containers service)
 *     runtime/        --root of the OCI runtime
 *     netns/          network namespaces (networks service)
 *     plugins/        plugins' sockets, bundles and runtime root (plugins service)
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { DaemonConfig } from './config.js';
import type { Engine, Service } from './engine.js';
import { EventBus } from './events.js';
import { writeFileAtomic } from './fsutil.js';
import { collectWhenIdle } from './idlegc.js';
import { log } from './log.js';
import { Router } from './api/router.js';
import { listenAll, type Listener } from './api/server.js';
import { register as registerSystem } from './api/routes/system.js';
import { register as registerImages } from './api/routes/images.js';
import { createImageService } from './images/service.js';
import { createSnapshotter } from './snapshots/factory.js';
import { NetworkService } from './networks/service.js';
import { VolumeService } from './volumes/service.js';
import { PluginService } from './plugins/service.js';
import { register as registerNetworks } from './api/routes/networks.js';
import { register as registerVolumes } from './api/routes/volumes.js';
import { createContainerService } from './containers/index.js';
import { register as registerContainers } from './api/routes/containers.js';
import { register as registerExec } from './api/routes/exec.js';
import { register as registerBuild } from './api/routes/build.js';
import { createBuildService } from './build/index.js';
import { createSwarm } from './swarm/index.js';
import { register as registerSwarm } from './api/routes/swarm.js';
import { register as registerPlugins } from './api/routes/plugins.js';

export interface RunningDaemon {
  engine: Engine;
  listeners: Listener[];
  stop(): Promise<void>;
}

export async function startEngine(config: DaemonConfig): Promise<RunningDaemon> {
  for (const dir of ['content', 'images', 'layers', 'snapshots', 'containers', 'volumes', 'networks']) {
    mkdirSync(join(config.dataRoot, dir), { recursive: true, mode: 0o711 });
  }
  for (const dir of ['bundles', 'runtime', 'netns']) mkdirSync(join(config.execRoot, dir), { recursive: true, mode: 0o711 });

  // Services in construction order; shutdown runs in reverse.
  const services: Service[] = [];
  const events = new EventBus();
  const images = await createImageService(config, events);
  services.push(images);
  const snapshots = createSnapshotter(config, images.layerDirs);
  services.push(snapshots);

  const engine: Engine = { config, events, images, snapshots, id: engineId(config.dataRoot), startedAt: new Date() };
  images.usedBy = (id) => engine.containers?.usingImage?.(id);

  // before containers: their restore on start asks networking for running containers
  const networks = await NetworkService.open({ dataRoot: config.dataRoot, execRoot: config.execRoot, events, bridge: config.bridge, bip: config.bip, defaultAddressPools: config.defaultAddressPools, mtu: config.mtu, ipv6: config.ipv6, fixedCidrV6: config.fixedCidrV6 });
  services.push(networks);
  engine.networks = networks;
  engine.networking = networks;
  // before volumes (their drivers) and stopped after containers
  const plugins = await PluginService.open(engine);
  services.push(plugins);
  engine.plugins = plugins;
  const volumes = await VolumeService.open(config.dataRoot, events, plugins);
  engine.volumes = volumes;
  plugins.usedBy = (name) => volumes.countByDriver(name);

  services.push(await createContainerService(engine));
  // after containers: the swarm agent runs tasks through them
  const swarm = await createSwarm(engine);
  engine.swarm = swarm;
  services.push(swarm);

  const router = new Router({ maxJsonBody: config.maxRequestBody, hiddenPaths: [config.dataRoot, config.execRoot] });
  registerSystem(router, engine);
  registerImages(router, engine);
  registerNetworks(router, engine);
  registerVolumes(router, engine);
  registerContainers(router, engine);
  registerExec(router, engine);
  const builds = await createBuildService(engine);
  services.push(builds);
  registerBuild(router, engine, builds);
  registerSwarm(router, engine);
  registerPlugins(router, engine);

  const listeners = await listenAll(config, router);
  for (const l of listeners) log.info(`API listen on ${l.address}`);
  const stopIdleGc = collectWhenIdle(() => router.requests);
  events.emit({ Type: 'daemon', Action: 'start', Actor: { ID: engine.id, Attributes: { name: 'berthd' } } });

  return {
    engine,
    listeners,
    stop: async () => {
      stopIdleGc();
      await Promise.all(listeners.map((l) => l.close()));
      for (const s of services.reverse()) {
        try {
          await s.shutdown?.();
        } catch (err) {
          log.error(`shutdown: ${(err as Error).message}`);
        }
      }
    },
  };
}

function engineId(dataRoot: string): string {
  const path = join(dataRoot, 'engine-id');
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    const id = randomUUID();
    writeFileAtomic(path, id + '\n');
    return id;
  }
}
