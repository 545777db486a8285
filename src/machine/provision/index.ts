import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Driver, EngineService } from '../../../drivers/driver.js';
import { loadTlsMaterial, ping } from '../../client/tls.js';
import type { Bundle } from '../bundle/build.js';
import { NotSupportedError, TimeoutError, reason } from '../errors.js';
import { LocalRunner } from '../runner/local.js';
import { mustRun, shq, type CommandRunner } from '../runner/index.js';
import type { HostConfig } from '../store/host.js';
import { engineArgs, engineEnv } from './engine-flags.js';
import { hostLayout, type HostLayout } from './layout.js';
import { checkCompatible, probeHost, type HostFacts } from './probe.js';
import { serviceCommand, serviceFiles, type ServiceKind } from './service.js';

/** Unpacks the bundle (zstd or gzip tar) from stdin into the layout's opt dir, then records its id. */
export function installScript(layout: HostLayout, zst: boolean, bundleId: string): string {
  const opt = shq(layout.optDir);
  const id = shq(layout.bundleIdFile);
  return [
    // An upload cut short (the client killed, the connection lost) leaves its temp dir: it goes now.
    'set -e', `mkdir -p ${opt}`, `rm -rf ${opt}/.new.*`, `new=$(mktemp -d ${opt}/.new.XXXXXX)`,
    'trap \'rm -rf "$new"\' EXIT',
    // zstd unpacks about four times faster than gzip (and sh has no pipefail: a failed zstd leaves a mark).
    zst ? '{ zstd -dcq || : > "$new/.zfail"; } | tar -xf - -C "$new"; if [ -e "$new/.zfail" ]; then echo "zstd could not unpack the bundle" >&2; exit 1; fi' : 'tar -xzf - -C "$new"',
    `rm -rf ${opt}/bin.old`, `if [ -d ${opt}/bin ]; then mv ${opt}/bin ${opt}/bin.old; fi`,
    `mv "$new/bin" ${opt}/bin`, `rm -rf "$new" ${opt}/bin.old`,
    `echo ${bundleId} > ${id}.tmp`, `mv ${id}.tmp ${id}`,
  ].join('\n');
}

export { hostLayout } from './layout.js';
export type { HostFacts } from './probe.js';

/** How long to wait for SSH: 60 s, or BERTH_SSH_TIMEOUT seconds. */
function defaultSshTimeout(): number {
  const s = Number(process.env.BERTH_SSH_TIMEOUT);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 60_000;
}

/** How long to wait for a started engine to answer: 60 s, or BERTH_ENGINE_TIMEOUT seconds (emulated VMs are slow). */
export function engineTimeoutMs(): number {
  const s = Number(process.env.BERTH_ENGINE_TIMEOUT);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 60_000;
}

/** Opens the way to run commands as root on the machine's host. */
export async function openRunner(driver: Driver, sshTimeoutMs = defaultSshTimeout()): Promise<CommandRunner> {
  const c = driver.connection();
  if (c.kind === 'local') return new LocalRunner();
  if (c.kind === 'none') throw new NotSupportedError(`the ${driver.name} driver has no way into its host: berth only knows the engine's URL`);
  // Loaded on demand: node-ssh costs ~100 ms of start-up that ls, env and friends don't need.
  const { SshRunner } = await import('../runner/ssh.js');
  // Whether it runs as root or through sudo, its first command finds out.
  return SshRunner.connect(c, sshTimeoutMs, { refusedFails: driver.existingHost === true });
}

export function layoutOf(host: HostConfig, driver: Driver): HostLayout {
  return hostLayout(driver.installPrefix(), host.Name);
}

/** The steps of provisioning, run in order by create, provision and upgrade. */
export class Provisioner {
  readonly layout: HostLayout;
  facts?: HostFacts;

  constructor(readonly host: HostConfig, readonly driver: Driver, readonly runner: CommandRunner) {
    this.layout = layoutOf(host, driver);
  }

  async probe(): Promise<HostFacts> {
    this.facts = await probeHost(this.runner, this.layout);
    checkCompatible(this.facts, this.runner.target);
    return this.facts;
  }

  /** Uploads the bundle unless the host already has this exact one; true when it did. */
  async installBundle(bundle: Bundle): Promise<boolean> {
    const facts = this.facts ?? (await this.probe());
    if (facts.bundleId === bundle.id) return false;
    const zst = facts.zstd && bundle.zstdPath !== undefined;
    await mustRun(this.runner, installScript(this.layout, zst, bundle.id), 'installing the engine bundle', { stdin: createReadStream(zst ? bundle.zstdPath! : bundle.path) });
    facts.bundleId = bundle.id;
    return true;
  }

  /** Server cert, CA, engine arguments and the service files, in one upload; `restart` in the same round trip. */
  async configure(opts: { restart?: boolean } = {}): Promise<void> {
    const facts = this.facts ?? (await this.probe());
    const tar = await this.configTar(facts.service);
    const restart = opts.restart ? ` && ${serviceCommand(this.layout, facts.service, 'restart')}` : '';
    await mustRun(this.runner, `tar -xf - -C / && ${serviceCommand(this.layout, facts.service, 'enable')}${restart}`, 'writing the engine configuration', { stdin: tar });
  }

  /** What configure writes, as a tar to unpack at /. */
  async configTar(service: ServiceKind): Promise<Buffer> {
    const l = this.layout;
    const a = this.host.HostOptions.AuthOptions;
    const eo = this.host.HostOptions.EngineOptions;
    const env = engineEnv(l, eo);
    const files = [
      { path: join(l.certDir, 'ca.pem'), data: await readFile(a.CaCertPath), mode: 0o644 },
      { path: join(l.certDir, 'server.pem'), data: await readFile(a.ServerCertPath), mode: 0o644 },
      { path: join(l.certDir, 'server-key.pem'), data: await readFile(a.ServerKeyPath), mode: 0o600 },
      { path: l.argsFile, data: Buffer.from(engineArgs(l, eo, this.host.DriverName, this.driver.enginePort()).join('\n') + '\n'), mode: 0o644 },
      { path: l.envFile, data: Buffer.from(Object.entries(env).map(([k, v]) => `${k}=${shq(v)}\n`).join('')), mode: 0o600 },
      ...serviceFiles(l, service).map((f) => ({ path: f.path, data: Buffer.from(f.content), mode: f.mode })),
    ];
    const { tarFiles } = await import('../bundle/tar.js');
    return tarFiles(files.map((f) => ({ ...f, name: f.path.replace(/^\/+/, '') })));
  }

  async restartEngine(): Promise<void> {
    const kind = (this.facts ?? (await this.probe())).service;
    await mustRun(this.runner, serviceCommand(this.layout, kind, 'restart'), `restarting ${this.layout.service}`);
  }

  /** Waits for /_ping over mutual TLS, as a client will reach it. */
  async waitForEngine(timeoutMs = engineTimeoutMs()): Promise<void> {
    await waitForEngine(this.host, this.driver, timeoutMs, () => this.logTail());
  }

  private async logTail(): Promise<string> {
    // Under systemd the engine logs to the journal.
    const res = await this.runner.run(`tail -n 5 ${shq(this.layout.logFile)} 2>/dev/null || journalctl -u ${shq(this.layout.service)} -n 5 --no-pager -o cat 2>/dev/null`).catch(() => null);
    return res?.stdout.trim() ?? '';
  }
}

export async function waitForEngine(host: HostConfig, driver: Driver, timeoutMs: number, logTail?: () => Promise<string>): Promise<void> {
  const a = host.HostOptions.AuthOptions;
  const tls = await loadTlsMaterial({ ca: a.CaCertPath, cert: a.ClientCertPath, key: a.ClientKeyPath });
  const ip = await driver.ip();
  const port = driver.enginePort();
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  // A refused connection costs next to nothing: ask often while an engine usually starts, then back off.
  const started = Date.now();
  for (let delay = 25; ; delay = Date.now() - started < 3000 ? 25 : Math.min(delay * 2, 500)) {
    try {
      await ping(ip, port, tls, Math.max(1000, Math.min(5000, deadline - Date.now())));
      return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, delay));
  }
  const tail = logTail ? await logTail() : '';
  throw new TimeoutError(`the engine of "${host.Name}" did not answer on tcp://${ip}:${port} within ${Math.round(timeoutMs / 1000)} s; last error: ${reason(last)}${tail ? `\nengine log:\n${tail}` : ''}`,
    { hint: `look at the engine log: berth machine ssh ${host.Name} "tail /var/log/berthd.log || journalctl -u berthd"` });
}

/** The engine service of a machine, for driver lifecycle calls (local driver). */
export function engineService(host: HostConfig, driver: Driver, open: () => Promise<CommandRunner>): EngineService {
  // Worked out at first use: ls makes one per machine, and most drivers' state() never asks.
  let layout: HostLayout | undefined;
  const lay = () => (layout ??= layoutOf(host, driver));
  // Which manager runs it is read from the host: a systemd unit file, or the init script.
  const cmd = (action: 'start' | 'stop' | 'kill' | 'status'): string => {
    const l = lay();
    const pick = (k: ServiceKind) => serviceCommand(l, k, action);
    return `if [ -f ${shq(l.systemdUnit)} ] && [ -d /run/systemd/system ] && [ -z ${shq(l.prefix)} ]; then ${pick('systemd')}; else ${pick('supervised')}; fi`;
  };
  const runOnce = async (action: 'start' | 'stop' | 'kill' | 'status') => {
    const r = await open();
    try {
      return await r.run(cmd(action));
    } finally {
      r.close();
    }
  };
  return {
    async start() { await must(await runOnce('start'), 'start'); },
    async stop() { await must(await runOnce('stop'), 'stop'); },
    async kill() { await must(await runOnce('kill'), 'kill'); },
    async running() {
      // On this computer the pidfile answers without spawning a shell (ls asks for every machine).
      if (driver.connection().kind === 'local') return pidAlive(lay().pidfile);
      return (await runOnce('status')).code === 0;
    },
  };
  async function must(res: { code: number; stderr: string }, what: string) {
    if (res.code !== 0) throw new Error(`${what} of ${lay().service} failed (exit ${res.code}): ${res.stderr.trim()}`);
  }
}

/** Stops and unregisters the engine; data stays unless `purge`. */
export async function uninstall(runner: CommandRunner, l: HostLayout, purge: boolean): Promise<void> {
  const rmPaths = purge ? [l.optDir, l.certDir, l.dataRoot, l.execRoot, l.logFile] : [l.certDir];
  const script = [
    `if [ -f ${shq(l.systemdUnit)} ] && [ -z ${shq(l.prefix)} ]; then systemctl stop ${shq(l.service)} 2>/dev/null; ${serviceCommand(l, 'systemd', 'disable')}; fi`,
    `if [ -f ${shq(l.initScript)} ]; then ${shq(l.initScript)} stop; ${serviceCommand(l, 'supervised', 'disable')}; fi`,
    `rm -rf ${rmPaths.map(shq).join(' ')}`,
  ].join('\n');
  await mustRun(runner, script, 'removing the engine');
}

/** Whether the pid in a pidfile is a live process (a zombie awaiting its reaper is not). */
async function pidAlive(pidfile: string): Promise<boolean> {
  const pid = Number((await readFile(pidfile, 'utf8').catch(() => '')).trim());
  if (!pid) return false;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}
