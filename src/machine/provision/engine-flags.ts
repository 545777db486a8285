import { join } from 'node:path';
import { parseDaemonArgs } from '../../../engine/config.js';
import { InvalidArgumentError } from '../errors.js';
import type { EngineOptions } from '../store/host.js';
import { hostLayout, type HostLayout } from './layout.js';

/** berthd's command line (dockerd's flag names), one argument per element. */
export function engineArgs(layout: HostLayout, opts: EngineOptions, driverName: string, port: number): string[] {
  const args = [
    '-H', `unix://${layout.socket}`,
    '-H', `tcp://0.0.0.0:${port}`,
    '--tlsverify',
    `--tlscacert=${join(layout.certDir, 'ca.pem')}`,
    `--tlscert=${join(layout.certDir, 'server.pem')}`,
    `--tlskey=${join(layout.certDir, 'server-key.pem')}`,
    `--data-root=${layout.dataRoot}`,
    `--exec-root=${layout.execRoot}`,
    `--pidfile=${layout.pidfile}`,
    `--runtime=${join(layout.binDir, 'berth-runtime')}`,
    `--label=provider=${driverName}`,
  ];
  for (const l of opts.Labels) args.push(`--label=${l}`);
  for (const r of opts.InsecureRegistry) args.push(`--insecure-registry=${r}`);
  for (const m of opts.RegistryMirror) args.push(`--registry-mirror=${m}`);
  if (opts.StorageDriver) args.push(`--storage-driver=${opts.StorageDriver}`);
  if (opts.LogLevel) args.push(`--log-level=${opts.LogLevel}`);
  // --engine-opt k=v becomes --k=v (a bare k becomes --k), as Docker Machine does.
  for (const f of opts.ArbitraryFlags) args.push(`--${f.replace(/^-+/, '')}`);
  return args;
}

/** The engine's environment: the runtime and port proxy paths, then --engine-env (HTTP_PROXY and friends go there). */
export function engineEnv(layout: HostLayout, opts: EngineOptions): Record<string, string> {
  const env: Record<string, string> = { BERTH_RUNTIME: join(layout.binDir, 'berth-runtime'), BERTH_PROXY: join(layout.binDir, 'berth-proxy') };
  for (const e of opts.Env) {
    const i = e.indexOf('=');
    if (i > 0) env[e.slice(0, i)] = e.slice(i + 1);
  }
  return env;
}

/**
 * The engine options of a create, checked by berthd's own parser (the host runs this
 * very berthd) before anything is made: an option berthd refuses fails at once, in
 * one line, instead of an engine that never answers.
 */
export function checkEngineOptions(opts: EngineOptions, driverName: string): void {
  if (opts.ArbitraryFlags.some((f) => /^-*config-file\b/.test(f))) return; // names a file on the host: berthd checks it there
  try {
    parseDaemonArgs(engineArgs(hostLayout('', 'check'), opts, driverName, 2376));
  } catch (err) {
    const what = opts.StorageDriver && /--storage-driver/.test((err as Error).message) ? '--engine-storage-driver' : '--engine-opt';
    throw new InvalidArgumentError(`${what}: berthd refuses it: ${(err as Error).message.replace(/ \(see berthd --help\)$/, '')}`, {
      hint: 'berthd understands dockerd\'s log-driver (json-file, none), log-opt (max-size, max-file), dns, mtu, default-ulimit, storage-driver (overlay2, overlay, vfs), label, insecure-registry, registry-mirror, bip, bridge, default-address-pool',
    });
  }
}
