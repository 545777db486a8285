/**
 * The containers service as daemon.ts builds it: ContainerService (lifecycle) and
 * ExecService (docker exec), with the OCI runtime chosen by --runtime.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { configureSpawner } from '../runtime/spawner.js';
import { runtimePath } from '../../src/common/paths.js';
import type { Engine } from '../engine.js';
import { ExecService } from './exec.js';
import { ContainerService } from './service.js';

export { ContainerService } from './service.js';
export { ExecService } from './exec.js';

export type ContainersWithExec = ContainerService;

/** Builds both services and re-adopts containers left running by a previous berthd. */
export async function createContainerService(engine: Engine): Promise<ContainersWithExec> {
  const berthRuntime = runtimePath();
  configureSpawner(berthRuntime, join(engine.config.execRoot, 'spawn'));
  const svc = new ContainerService(engine, engine.config.runtime ?? berthRuntime, berthRuntime) as ContainersWithExec;
  svc.execs = new ExecService(engine, svc);
  engine.containers = svc as unknown as Engine['containers'];
  mkdirSync(dirname(svc.paths.monitorSocket('x')), { recursive: true, mode: 0o700 });
  await svc.init();
  return svc;
}
