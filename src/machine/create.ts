import { copyFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ListrTask } from 'listr2';
import { baseSettings, type Driver, type DriverFactory, type FlagValues } from '../../drivers/driver.js';
import { findDriver } from '../../drivers/registry.js';
import { ensureBundle, type Bundle } from './bundle/build.js';
import { ensureStoreCerts, storeCertPaths, writeMachineCerts } from './certs/index.js';
import { crashPoint } from './crashpoint.js';
import { InterruptedError, InvalidArgumentError, MachineExistsError, reason } from './errors.js';
import { Interruption } from './interrupt.js';
import { checkEngineOptions } from './provision/engine-flags.js';
import { openRunner, Provisioner } from './provision/index.js';
import { CreateSession } from './provision/session.js';
import type { CommandRunner } from './runner/index.js';
import { removeMachine } from './remove.js';
import { writeSshKey } from './sshkey.js';
import { validateName, type Store } from './store/index.js';
import { CONFIG_VERSION, defaultEngineOptions, type EngineOptions, type HostConfig } from './store/host.js';
import { runTasks, type Progress } from './tasks.js';
import { checkSwarmRole, formSwarm, type SwarmRole } from './swarm.js';

export interface CreateOptions {
  driver: string;
  driverFlags: FlagValues;
  engine: Partial<EngineOptions>;
  tlsSans: string[];
  keepOnFailure: boolean;
  progress: Progress;
  /** --swarm-manager / --swarm-join MANAGER */
  swarm?: SwarmRole;
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


/** One machine of a create: new, or a half-made one (from an interrupted create) resumed. */
interface Plan { name: string; driver: Driver; resume?: { host: HostConfig; hostCreated: boolean } }

/**
 * Creates several machines at once; returns the names that failed with their errors.
 * SIGINT/SIGTERM stops each machine at its current step: a machine whose host was not
 * made yet is removed, any other is left half-made for the next create to resume.
 */
export async function createMachines(store: Store, names: string[], opts: CreateOptions): Promise<{ name: string; error: Error }[]> {
  if (names.length === 0) throw new InvalidArgumentError('create needs a machine name', { hint: 'berth machine create [-d DRIVER] NAME' });
  const seen = new Set<string>();
  for (const n of names) {
    validateName(n);
    if (seen.has(n)) throw new InvalidArgumentError(`machine name "${n}" is given twice`);
    seen.add(n);
  }
  const factory = await findDriver(opts.driver);
  checkEngineOptions({ ...defaultEngineOptions(), ...opts.engine }, factory.name);
  const plans: Plan[] = [];
  for (const name of names) plans.push(await planMachine(store, name, factory, opts));
  // Validate every machine's flags before anything is made.
  if (opts.swarm) await checkSwarmRole(store, names, opts.swarm);
  for (const p of plans) if (!p.resume) await p.driver.preCreateCheck();
  await ensureStoreCerts(store);

  const failures: { name: string; error: Error }[] = [];
  const intr = new Interruption();
  try {
    const tasks: ListrTask<object>[] = plans.map((p) => ({
      title: `${p.name} (${opts.driver})${p.resume ? ': resuming an unfinished create' : ''}`,
      task: (_c, task) => task.newListr(createSteps(store, p, opts, intr, (err) => failures.push({ name: p.name, error: err })), { concurrent: false, exitOnError: true }),
    }));
    await runTasks(tasks, opts.progress, true, {});
  } finally {
    intr.dispose();
  }
  return failures;
}

async function planMachine(store: Store, name: string, factory: DriverFactory, opts: CreateOptions): Promise<Plan> {
  const fresh = (): Plan => ({ name, driver: factory.fromFlags(baseSettings(name, store.root, join(store.machineDir(name), 'id_rsa')), opts.driverFlags) });
  // Killed before its first save: nothing was made on the driver's side yet, and reserve
  // takes the directory over, unless the create that made it still runs.
  if (!(await store.exists(name))) {
    await store.refuseWhileCreating(name);
    return fresh();
  }
  // An unfinished create that died is this create's now; one that runs is refused.
  const half = await store.claimUnfinished(name);
  if (!half) throw new MachineExistsError(`Host already exists: "${name}"`, { hint: `pick another name, or remove it with \`berth machine rm ${name}\`` });
  const host = await store.load(name);
  if (host.DriverName !== factory.name) {
    throw new InvalidArgumentError(`machine "${name}" is an unfinished create with the ${host.DriverName} driver, not ${factory.name}`, { hint: `finish it with \`berth machine create -d ${host.DriverName} ${name}\`, or remove it with \`berth machine rm -f ${name}\`` });
  }
  // The stored settings win: the host the first create made (or was about to make) is that one.
  return { name, driver: factory.fromSettings(host.Driver), resume: { host, hostCreated: half.hostCreated } };
}

function createSteps(store: Store, plan: Plan, opts: CreateOptions, intr: Interruption, onFail: (e: Error) => void): ListrTask<object>[] {
  const { name, driver } = plan;
  let host: HostConfig | undefined = plan.resume?.host;
  let runner: CommandRunner | undefined;
  let prov: Provisioner;
  let session: CreateSession;
  let made = false;
  let hostCreated = plan.resume?.hostCreated ?? false;
  const step = (title: string, fn: () => Promise<unknown>, opt: { skip?: boolean } = {}): ListrTask<object> => ({
    title,
    skip: opt.skip,
    task: async () => {
      // A signal cuts the step's SSH session, so the step ends now rather than at its timeout.
      const off = intr.onSignal(() => runner?.close());
      try {
        if (intr.stopped) throw interrupted();
        crashPoint(`create:${title}`);
        if (made) await store.markHalfMade(name, { hostCreated, step: title });
        await fn();
      } catch (err) {
        runner?.close();
        const e = intr.stopped ? await stopAt(title) : err instanceof Error ? err : new Error(String(err));
        if (!intr.stopped && !opts.keepOnFailure && made) await cleanup(store, name, driver, host).catch(() => undefined); // the create error is what matters
        onFail(e);
        throw e;
      } finally {
        off();
      }
    },
  });
  const interrupted = () => new Error('interrupted');
  /** Undo what the interrupted step made on the driver's side; keep the machine only once its host exists. */
  const stopAt = async (title: string): Promise<Error> => {
    const signal = intr.signal!;
    if (made && !hostCreated) {
      await cleanup(store, name, driver, host).catch(() => undefined);
      return new InterruptedError(`create of "${name}" interrupted (${signal}) at "${title}": nothing was kept`, signal);
    }
    if (made) await store.markHalfMade(name, { hostCreated, step: title }).catch(() => undefined);
    return new InterruptedError(`create of "${name}" interrupted (${signal}) at "${title}"`, signal, {
      hint: `run the same create again to finish it, or remove it with \`berth machine rm -f ${name}\``,
    });
  };
  return [
    step(plan.resume ? 'Checking the keys' : 'Reserving the name and keys', async () => {
      if (plan.resume) {
        made = true;
        return;
      }
      await store.reserve(name, 'Reserving the name and keys');
      made = true;
      await prepareSshKey(store, name, driver);
      host = newHostConfig(store, name, driver, opts.engine, opts.tlsSans);
      await store.save(host);
    }),
    step('Creating the host', async () => {
      await driver.create(intr.abortSignal);
      hostCreated = true;
      host!.Driver = driver.settings;
      host!.Driver.IPAddress = await driver.ip();
      await store.save(host!);
      await store.markHalfMade(name, { hostCreated, step: 'Creating the host' });
    }, { skip: hostCreated }),
    // The none driver only registers an engine: no host to reach, nothing to install.
    ...(driver.connection().kind === 'none' ? [step('Writing the client certificates', () => writeMachineCerts(store, host!))] : provisionSteps()),
    step('Saving', async () => {
      await store.save(host!);
      await store.clearHalfMade(name);
      runner?.close();
    }),
  ];

  function provisionSteps(): ListrTask<object>[] {
    return [
      step('Waiting for the host', async () => {
        // The server key is made while SSH connects: both take a moment.
        host!.Driver.IPAddress = await driver.ip();
        // The bundle too (its checks, or its first build): the upload step awaits it.
        (sharedBundle ??= ensureBundle()).catch(() => undefined);
        const certs = writeMachineCerts(store, host!);
        try {
          runner = await openRunner(driver);
        } finally {
          await certs;
        }
        prov = new Provisioner(host!, driver, runner);
      }),
      // One command on the host for these three steps (see provision/session.ts).
      step('Detecting the OS', async () => { session = await CreateSession.start(prov); }),
      step('Installing the engine bundle', async () => {
        await session.installBundle(await (sharedBundle ??= ensureBundle()));
      }),
      step('Configuring TLS and starting the engine', () => session.configured()),
      step('Waiting for the engine', () => prov.waitForEngine()),
      ...(opts.swarm?.manager || opts.swarm?.join
        ? [step(opts.swarm.manager ? 'Initialising the swarm' : `Joining the swarm of ${opts.swarm.join}`, () => formSwarm(store, host!, driver, opts.swarm!))]
        : []),
    ];
  }
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
  return removeMachine(store, host ?? null, name, driver, true, { createFailed: true });
}
