import { ensureBundle } from './bundle/build.js';
import { ensureStoreCerts, writeMachineCerts } from './certs/index.js';
import { MachineError, NotSupportedError } from './errors.js';
import { engineServiceOf, loadMachine, type Machine } from './machine.js';
import { engineTimeoutMs, openRunner, Provisioner, waitForEngine } from './provision/index.js';
import type { MachineState } from './state.js';
import type { Store } from './store/index.js';
import { checkTls, reissueServerCert } from './tls-check.js';

/** Lifecycle verbs: each runs under the machine's lock. */
export type LifecycleVerb = 'start' | 'stop' | 'restart' | 'kill';

export async function lifecycle(store: Store, name: string, verb: LifecycleVerb): Promise<{ warning?: string }> {
  return store.withMachineLock(name, async () => {
    const m = await loadMachine(store, name);
    const svc = engineServiceOf(m);
    // Docker Machine's ErrHostAlreadyInState: start of a Running machine, stop/kill of a Stopped one.
    const wanted = verb === 'start' ? 'Running' : verb === 'restart' ? undefined : 'Stopped';
    if (wanted && (await m.driver.state(svc)) === wanted) throw new MachineError(`Machine "${name}" is already ${wanted.toLowerCase()}.`);
    await m.driver[verb](svc);
    if (verb === 'stop' || verb === 'kill') {
      await waitState(m, verb === 'kill' ? 10_000 : 60_000, (s) => s !== 'Running');
      return {};
    }
    await waitForEngine(m.host, m.driver, engineTimeoutMs());
    // The address may have changed while the host was down: certs follow it.
    const { reissued } = await followIpChange(store, m);
    return { warning: reissued ? `the IP of "${name}" changed: its server certificate was reissued` : undefined };
  });
}

/** A machine that came back on another address gets a server cert for it (caller holds the lock). */
async function followIpChange(store: Store, m: Machine) {
  const before = m.host.Driver.IPAddress;
  const now = await m.driver.ip();
  if (before !== now) {
    await reissueServerCert(store, m);
    return { reissued: true };
  }
  return { reissued: false };
}

async function waitState(m: Machine, timeoutMs: number, ok: (s: MachineState) => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const svc = engineServiceOf(m);
  while (!ok(await m.driver.state(svc))) {
    if (Date.now() > deadline) throw new NotSupportedError(`machine "${m.host.Name}" did not change state within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function status(store: Store, name: string): Promise<MachineState> {
  const m = await loadMachine(store, name);
  return m.driver.state(engineServiceOf(m));
}

/** Re-runs provisioning: bundle (if changed), certs, configuration, restart. */
export async function reprovision(store: Store, name: string, opts: { upgradeOnly?: boolean } = {}): Promise<{ uploaded: boolean }> {
  return store.withMachineLock(name, async () => {
    const m = await loadMachine(store, name, { halfMade: !opts.upgradeOnly });
    m.host.Driver.IPAddress = await m.driver.ip();
    const bundle = await ensureBundle();
    const runner = await openRunner(m.driver);
    try {
      const prov = new Provisioner(m.host, m.driver, runner);
      await prov.probe();
      const uploaded = await prov.installBundle(bundle);
      if (!opts.upgradeOnly) {
        await writeMachineCerts(store, m.host);
        await prov.configure();
      }
      if (uploaded || !opts.upgradeOnly) {
        await prov.restartEngine();
        await prov.waitForEngine();
      }
      await store.save(m.host);
      await store.clearHalfMade(name); // an unfinished create is finished now
      return { uploaded };
    } finally {
      runner.close();
    }
  });
}

export async function regenerateCerts(store: Store, name: string, clientCerts: boolean): Promise<void> {
  if (clientCerts) await ensureStoreCerts(store, { regenerate: true });
  await store.withMachineLock(name, async () => {
    const m = await loadMachine(store, name);
    await reissueServerCert(store, m);
  });
}

export { checkTls };
