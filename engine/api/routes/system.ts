/** System endpoints: _ping, version, info, events, system/df, auth. */
import os from 'node:os';
import type { Engine } from '../../engine.js';
import { cgroupVersion, goArch, operatingSystem } from '../../host.js';
import { BERTH_VERSION } from '../../version.js';
import { queryFilters, checkFilterKeys } from '../query.js';
import type { Ctx, Router } from '../router.js';
import { MAX_API_VERSION, MIN_API_VERSION } from '../version.js';
import { InvalidArgumentError } from '../../errors.js';
import { imageSummary } from './image-views.js';
import { hostLsmWarnings } from '../../runtime/security.js';

export function register(router: Router, engine: Engine): void {
  const ping = (ctx: Ctx) => {
    ctx.res.writeHead(200, {
      'Api-Version': MAX_API_VERSION,
      'Ostype': 'linux',
      'Builder-Version': '1',
      'Docker-Experimental': 'false',
      'Swarm': engine.swarm?.localState?.() === 'active' ? `active/${engine.swarm.role?.()}` : 'inactive',
      'Cache-Control': 'no-cache, no-store, must-revalidate',
      'Pragma': 'no-cache',
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': '2',
    });
    ctx.res.end(ctx.req.method === 'HEAD' ? undefined : 'OK');
  };
  router.get('/_ping', ping);
  router.head('/_ping', ping);

  // Leak hunting (bench/load.sh, the memory test): off unless BERTHD_DEBUG_MEMORY=1; with
  // node's --expose-gc it collects first, so heapUsed is what is still referenced.
  if (process.env.BERTHD_DEBUG_MEMORY === '1') {
    router.get('/_berth/memory', () => {
      (globalThis as { gc?: () => void }).gc?.();
      return process.memoryUsage();
    });
  }

  router.get('/version', () => versionInfo());

  router.get('/info', async () => {
    const counts = engine.containers?.counts?.() ?? { running: 0, paused: 0, stopped: 0 };
    const { config } = engine;
    const registries = registryConfig(engine);
    return {
      ID: engine.id,
      Containers: counts.running + counts.paused + counts.stopped,
      ContainersRunning: counts.running,
      ContainersPaused: counts.paused,
      ContainersStopped: counts.stopped,
      Images: await engine.images.count(),
      Driver: engine.snapshots.driver,
      DriverStatus: [['Backing Filesystem', 'extfs'], ['Supports d_type', 'true']],
      Plugins: { Volume: ['local', ...((engine.plugins?.list?.({ enabled: ['true'], capability: ['volumedriver'] }) ?? []) as { Name: string }[]).map((p) => p.Name)], Network: ['bridge', 'host', 'none'], Authorization: null, Log: ['json-file'] },
      MemoryLimit: true,
      SwapLimit: false,
      CpuCfsPeriod: true,
      CpuCfsQuota: true,
      CPUShares: true,
      CPUSet: true,
      PidsLimit: true,
      IPv4Forwarding: true,
      BridgeNfIptables: false,
      BridgeNfIp6tables: false,
      Debug: config.logLevel === 'debug',
      NFd: 0,
      OomKillDisable: false,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'json-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: cgroupVersion(),
      NEventsListener: 0,
      KernelVersion: os.release(),
      OperatingSystem: operatingSystem(),
      OSVersion: '',
      OSType: 'linux',
      Architecture: os.machine(),
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: registries,
      NCPU: os.cpus().length,
      MemTotal: os.totalmem(),
      DockerRootDir: config.dataRoot,
      HttpProxy: process.env.HTTP_PROXY ?? process.env.http_proxy ?? '',
      HttpsProxy: process.env.HTTPS_PROXY ?? process.env.https_proxy ?? '',
      NoProxy: process.env.NO_PROXY ?? process.env.no_proxy ?? '',
      Name: os.hostname(),
      Labels: config.labels,
      ExperimentalBuild: false,
      ServerVersion: BERTH_VERSION,
      Runtimes: { [runtimeName(config.runtime)]: { path: config.runtime ?? 'berth-runtime' } },
      DefaultRuntime: runtimeName(config.runtime),
      Swarm: (await engine.swarm?.info?.()) ?? { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: true,
      Isolation: '',
      InitBinary: 'docker-init',
      ContainerdCommit: { ID: '' },
      RuncCommit: { ID: '' },
      InitCommit: { ID: '' },
      SecurityOptions: ['name=seccomp,profile=builtin'],
      Warnings: [...(config.hosts.some((h) => h.startsWith('tcp://')) && !config.tls ? ['WARNING: API is accessible on http without encryption.'] : []), ...hostLsmWarnings()],
    };
  });

  router.get('/events', async (ctx) => {
    const filters = queryFilters(ctx.query);
    checkFilterKeys(filters, ['config', 'container', 'daemon', 'event', 'image', 'label', 'network', 'node', 'plugin', 'scope', 'secret', 'service', 'type', 'volume']);
    const since = parseTime(ctx.query.get('since'), 'since');
    const until = parseTime(ctx.query.get('until'), 'until');
    const sub = engine.events.subscribe(filters, since, until);
    ctx.signal.addEventListener('abort', () => sub.close());
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    ctx.res.flushHeaders();
    for await (const e of sub) ctx.res.write(JSON.stringify(e) + '\n');
    ctx.res.end();
  });

  router.get('/system/df', async () => {
    const images = await engine.images.list({ all: true });
    const layersSize = images.reduce((n, i) => n + i.size, 0);
    return {
      LayersSize: layersSize,
      Images: images.map((i) => ({ ...imageSummary(i), SharedSize: -1, Containers: -1 })),
      Containers: (await engine.containers?.diskUsage?.()) ?? [],
      Volumes: (await engine.volumes?.diskUsage?.()) ?? [],
      BuildCache: [],
    };
  });

  router.post('/auth', async (ctx) => {
    const body = await ctx.body();
    if (!body || typeof body !== 'object') throw new InvalidArgumentError('POST /auth needs a JSON body with username, password and serveraddress');
    return engine.images.login(body);
  });
}

export function versionInfo() {
  const details = {
    ApiVersion: MAX_API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: '',
    GoVersion: `node ${process.version}`,
    Os: 'linux',
    Arch: goArch(),
    KernelVersion: os.release(),
    BuildTime: '',
    Experimental: 'false',
  };
  return {
    Platform: { Name: 'berth' },
    Components: [{ Name: 'Engine', Version: BERTH_VERSION, Details: details }],
    Version: BERTH_VERSION,
    ...details,
    Experimental: false,
  };
}

function runtimeName(runtime: string | undefined): string {
  if (!runtime) return 'berth-runtime';
  return runtime.split('/').pop() ?? runtime;
}

function registryConfig(engine: Engine) {
  const { insecureRegistries, registryMirrors } = engine.config;
  const cidrs = insecureRegistries.filter((r) => r.includes('/'));
  const indexConfigs: Record<string, unknown> = {
    'docker.io': { Name: 'docker.io', Mirrors: registryMirrors, Secure: true, Official: true },
  };
  for (const r of insecureRegistries.filter((r) => !r.includes('/'))) {
    indexConfigs[r] = { Name: r, Mirrors: [], Secure: false, Official: false };
  }
  return { AllowNondistributableArtifactsCIDRs: null, AllowNondistributableArtifactsHostnames: null, InsecureRegistryCIDRs: ['127.0.0.0/8', ...cidrs], IndexConfigs: indexConfigs, Mirrors: registryMirrors };
}

/** docker's since/until: unix seconds (with fraction) or RFC 3339. */
function parseTime(v: string | null, name: string): number | undefined {
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidArgumentError(`${name}=${v}: use unix seconds or an RFC 3339 time`);
  return t / 1000;
}
