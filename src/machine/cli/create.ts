import type { FlagValues } from '../../../drivers/driver.js';
import { builtinDrivers } from '../../../drivers/registry.js';
import { createMachines } from '../create.js';
import { InterruptedError, InvalidArgumentError, ProvisionError } from '../errors.js';
import type { Store } from '../store/index.js';
import { progressMode } from '../tasks.js';
import { printJson } from './report.js';

/** `machine create NAME…` once its flags are parsed (by oclif, or bin/berth's fast path); throws what fails. */
export async function runCreate(store: Store, names: string[], flags: Record<string, any>, bin: string): Promise<void> {
  const driverFlagValues: FlagValues = {};
  for (const d of builtinDrivers()) for (const df of d.flags) driverFlagValues[df.name] = flags[df.name] as FlagValues[string];
  const badEnv = ((flags['engine-env'] ?? []) as string[]).find((kv) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(kv));
  if (badEnv !== undefined) throw new InvalidArgumentError(`--engine-env "${badEnv}": expected KEY=VALUE`);
  const failures = await createMachines(store, names, {
    driver: flags.driver,
    driverFlags: driverFlagValues,
    engine: {
      ArbitraryFlags: flags['engine-opt'] ?? [], Env: flags['engine-env'] ?? [], InsecureRegistry: flags['engine-insecure-registry'] ?? [],
      Labels: flags['engine-label'] ?? [], RegistryMirror: flags['engine-registry-mirror'] ?? [], StorageDriver: flags['engine-storage-driver'] ?? '',
      InstallURL: flags['engine-install-url'] ?? '',
    },
    tlsSans: flags['tls-san'] ?? [],
    keepOnFailure: flags['keep-on-failure'],
    progress: progressMode(flags.json),
    swarm: { manager: flags['swarm-manager'], join: flags['swarm-join'] },
  });
  const ok = names.filter((n) => !failures.some((x) => x.name === n));
  if (flags.json) printJson({ created: ok, failed: failures.map((x) => ({ name: x.name, error: x.error.message })) });
  else for (const n of ok) process.stdout.write(`To see how to connect your client to "${n}", run: ${bin} machine env ${n}\n`);
  if (failures.length === 1 && names.length === 1) throw failures[0].error;
  const message = failures.map((x) => `${x.name}: ${x.error.message}`).join('\n');
  const stopped = failures.find((x) => x.error instanceof InterruptedError)?.error as InterruptedError | undefined;
  if (stopped) throw new InterruptedError(message, stopped.exitCode === 143 ? 'SIGTERM' : 'SIGINT', { hint: stopped.hint });
  if (failures.length) throw new ProvisionError(message);
}
