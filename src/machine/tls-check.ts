import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { clientCertProblem, loadTlsMaterial, ping } from '../client/tls.js';
import { alreadyChecked, checkMemo, rememberChecked } from './certs/checked.js';
import { serverCertCurrent, wantedSans, writeMachineCerts } from './certs/index.js';
import { crashPoint } from './crashpoint.js';
import { TlsError, UnreachableError, reason } from './errors.js';
import { clientTlsPaths, type Machine } from './machine.js';
import { openRunner, Provisioner } from './provision/index.js';
import type { Store } from './store/index.js';

/**
 * Reissues the machine's server cert (new SANs: the current IP) and restarts the
 * engine with it. Used by regenerate-certs, and automatically when the IP moved.
 */
export async function reissueServerCert(store: Store, m: Machine): Promise<void> {
  m.host.Driver.IPAddress = await m.driver.ip();
  await writeMachineCerts(store, m.host);
  crashPoint('certs:server');
  const runner = await openRunner(m.driver);
  try {
    const prov = new Provisioner(m.host, m.driver, runner);
    await prov.configure();
    crashPoint('certs:configured');
    await prov.restartEngine();
    await prov.waitForEngine();
  } finally {
    runner.close();
  }
  await store.save(m.host);
}

/** Makes sure a client can talk to the engine over mTLS; reissues the cert after an IP change. */
export async function checkTls(store: Store, m: Machine, timeoutMs = 10_000): Promise<{ reissued: boolean }> {
  let reissued = false;
  // A cloud instance that was stopped and started again is on a new address.
  const moved = (await m.driver.ip()) !== m.host.Driver.IPAddress;
  const paths = clientTlsPaths(m.host);
  const a = m.host.HostOptions.AuthOptions;
  const memo = await checkMemo(join(paths.dir, '.tls-checked'), [a.ServerCertPath, a.CaCertPath, paths.ca, paths.cert, paths.key], wantedSans(m.host));
  const known = !moved && (await alreadyChecked(memo));
  if (!known && (moved || !(await serverCertCurrent(store, m.host)))) {
    await store.withMachineLock(m.host.Name, () => reissueServerCert(store, m));
    reissued = true;
  }
  const ip = await m.driver.ip();
  const port = m.driver.enginePort();
  let tls;
  try {
    tls = await loadTlsMaterial(paths);
  } catch (err) {
    throw new TlsError(`machine "${m.host.Name}" has no client certificates: ${reason(err)}`, { hint: `berth machine regenerate-certs --client-certs ${m.host.Name}` });
  }
  const problem = known ? undefined : clientCertProblem(tls);
  if (problem) throw new TlsError(`machine "${m.host.Name}": ${problem}`, { hint: `berth machine regenerate-certs --client-certs ${m.host.Name}` });
  try {
    await ping(ip, port, tls, timeoutMs);
  } catch (err) {
    const msg = reason(err);
    if (/ECONNREFUSED|EHOSTUNREACH|ETIMEDOUT|no answer/.test(msg)) {
      throw new UnreachableError(`the engine of "${m.host.Name}" does not answer on tcp://${ip}:${port}: ${msg}`, { hint: `check the machine with \`berth machine status ${m.host.Name}\`, or start it` });
    }
    throw new TlsError(`error checking TLS connection to tcp://${ip}:${port}: ${msg}`, { hint: `you can regenerate the certificates with \`berth machine regenerate-certs ${m.host.Name}\`` });
  }
  // Checked and answered: the next command skips the certificate checks while no file changes.
  if (!known && !reissued) await rememberChecked(memo, Date.parse(new X509Certificate(tls.cert).validTo));
  return { reissued };
}
