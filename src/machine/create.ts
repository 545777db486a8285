import { copyFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ListrTask } from 'listr2';
import { baseSettings, type Driver, type FlagValues } from '../../drivers/driver.js';
import { getDriver } from '../../drivers/registry.js';
import { ensureBundle, type Bundle } from './bundle/build.js';
import { ensureStoreCerts, storeCertPaths, writeMachineCerts } from './certs/index.js';
import { InvalidArgumentError, reason } from './errors.js';
import { openRunner, Provisioner } from './provision/index.js';
import type { CommandRunner } from './runner/index.js';
import { removeMachine } from './remove.js';
import { writeSshKey } from './sshkey.js';
import { validateName, type Store } from './store/index.js';
import { CONFIG_VERSION, defaultEngineOptions, type EngineOptions, type HostConfig } from './store/host.js';
import { runTasks, type Progress } from './tasks.js';

export interface CreateOptions {
  driver: string;
  driverFlags: FlagValues;
  engine: Partial<EngineOptions>;
  tlsSans: string[];
  keepOnFailure: boolean;
  progress: Progress;
}

export function newHostConfig(store: Store, name: string, driver: Driver, engine: Partial<EngineOptions>, sans: string[]): HostConfig {
  const dir = store.machineDir(name);
  const certs = storeCertPaths(store);
  return {
    ConfigVersion: CONFIG_VERSION,
    Driver: driver.settings,
    DriverName: driver.name,
    HostOptions: {
      Driver: '', Memory: 0, Disk: 0,
      EngineOptions: { ...defaultEngineOptions(), ...engine },
      SwarmOptions: { IsSwarm: false },
      AuthOptions: {
        CertDir: store.certsDir, CaCertPath: certs.caCert, CaPrivateKeyPath: certs.caKey, CaCertRemotePath: '',
        ServerCertPath: join(dir, 'server.pem'), ServerKeyPath: join(dir, 'server-key.pem'),
        ClientKeyPath: certs.clientKey, ClientCertPath: certs.clientCert,
        ServerCertRemotePath: '', ServerKeyRemotePath: '', ServerCertSANs: sans, StorePath: dir,
      },
    },
    Name: name,
  };
}


/** Creates several machines at once; returns the names that failed with their errors. */
export async function createMachines(store: Store, names: string[], opts: CreateOptions): Promise<{ name: string; error: Error }[]> {
  if (names.length === 0) throw new InvalidArgumentError('create needs a machine name', { hint: 'berth machine create [-d DRIVER] NAME' });
  const seen = new Set<string>();
  for (const n of names) {
    validateName(n);
    if (seen.has(n)) throw new InvalidArgumentError(`machine name "${n}" is given twice`);
    seen.add(n);
  }
  const factory = getDriver(opts.driver);
  // Validate every machine's flags before anything is made.
  const drivers = names.map((n) => factory.fromFlags(baseSettings(n, store.root, join(store.machineDir(n), 'id_rsa')), opts.driverFlags));
  for (const d of drivers) await d.preCreateCheck();
  await Promise.all(names.map(async (n) => {
    if (await store.exists(n)) throw new InvalidArgumentError(`machine "${n}" already exists`, { hint: `pick another name, or remove it with \`berth machine rm ${n}\`` });
  }));
  await ensureStoreCerts(store);

  const failures: { name: string; error: Error }[] = [];
  const tasks: ListrTask<object>[] = names.map((name, i) => ({
    title: `${name} (${opts.driver})`,
    task: (_c, task) => task.newListr(createSteps(store, name, drivers[i], opts, (err) => failures.push({ name, error: err })), { concurrent: false, exitOnError: true }),
  }));
  await runTasks(tasks, opts.progress, true, {});
  return failures;
}

function createSteps(store: Store, name: string, driver: Driver, opts: CreateOptions, onFail: (e: Error) => void): ListrTask<object>[] {
  let host: HostConfig;
  let runner: CommandRunner | undefined;
  let prov: Provisioner;
  let made = false;
  const guard = (fn: () => Promise<unknown>) => async () => {
    try {
      await fn();
    } catch (err) {
      runner?.close();
      const e = err instanceof Error ? err : new Error(String(err));
      if (!opts.keepOnFailure && made) await cleanup(store, name, driver, host).catch(() => undefined); // the create error is what matters
      onFail(e);
      throw e;
    }
  };
  return [
    {
      title: 'Reserving the name and keys',
      task: guard(async () => {
        await store.reserve(name);
        made = true;
        await prepareSshKey(store, name, driver);
        host = newHostConfig(store, name, driver, opts.engine, opts.tlsSans);
        await store.save(host);
      }),
    },
    { title: 'Creating the host', task: guard(async () => { await driver.create(); host.Driver = driver.settings; host.Driver.IPAddress = await driver.ip(); await store.save(host); }) },
    {
      title: 'Waiting for the host',
      task: guard(async () => {
        // The server key is made while SSH connects: both take a moment.
        host.Driver.IPAddress = await driver.ip();
        const certs = writeMachineCerts(store, host);
        try {
          runner = await openRunner(driver);
        } finally {
          await certs;
        }
        prov = new Provisioner(host, driver, runner);
      }),
    },
    { title: 'Detecting the OS', task: guard(async () => { const f = await prov.probe(); return f; }) },
    {
      title: 'Installing the engine bundle',
      task: guard(async () => {
        const ctxBundle = (sharedBundle ??= ensureBundle());
        await prov.installBundle(await ctxBundle);
      }),
    },
    { title: 'Configuring TLS and starting the engine', task: guard(async () => { await prov.configure({ restart: true }); }) },
    { title: 'Waiting for the engine', task: guard(async () => { await prov.waitForEngine(); }) },
    { title: 'Saving', task: guard(async () => { await store.save(host); runner?.close(); }) },
  ];
}

/** One bundle build per command, shared by all the machines it creates. */
let sharedBundle: Promise<Bundle> | undefined;

async function prepareSshKey(store: Store, name: string, driver: Driver): Promise<void> {
  const c = driver.connection();
  if (c.kind !== 'ssh') return;
  const own = join(store.machineDir(name), 'id_rsa');
  if (c.keyPath && c.keyPath !== own) {
    // A supplied key is copied into the machine so export/import carries it along.
    await stat(c.keyPath).catch((err) => { throw new InvalidArgumentError(`SSH key ${c.keyPath} cannot be read: ${reason(err)}`); });
    await copyFile(c.keyPath, own);
    await copyFile(`${c.keyPath}.pub`, `${own}.pub`).catch(() => undefined); // the public half is optional
    driver.settings.SSHKeyPath = own;
    return;
  }
  if (driver.name === 'generic') {
    throw new InvalidArgumentError('the generic driver needs the SSH key that opens the host', { hint: 'pass --generic-ssh-key PATH' });
  }
  await writeSshKey(own, `berth-${name}`);
}

function cleanup(store: Store, name: string, driver: Driver, host: HostConfig | undefined): Promise<void> {
  return removeMachine(store, host ?? null, name, driver, true);
}
