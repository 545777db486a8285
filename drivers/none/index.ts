import { NotSupportedError, InvalidArgumentError } from '../../src/machine/errors.js';
import type { DriverSettings } from '../../src/machine/store/host.js';
import type { Connection, Driver, DriverFactory, FlagValues, MachineState } from '../driver.js';
import { noneInfo } from './info.js';

/**
 * Docker Machine's `none` driver: registers an engine that already runs at
 * `--url tcp://HOST:PORT`, without provisioning it. berth neither reaches the host
 * nor changes it: the machine is always "Running", start/stop/restart/kill are
 * refused with Docker Machine's messages, and remove only forgets it. Its client
 * certificates are the store's, so an engine set up by this store answers `env`.
 */
export class NoneDriver implements Driver {
  readonly name = 'none';
  readonly existingHost = true;
  constructor(readonly settings: DriverSettings) {}

  async preCreateCheck(): Promise<void> {}
  async create(): Promise<void> {}
  async start(): Promise<void> { throw new NotSupportedError('hosts without a driver cannot be started'); }
  async stop(): Promise<void> { throw new NotSupportedError('hosts without a driver cannot be stopped'); }
  async restart(): Promise<void> { throw new NotSupportedError('hosts without a driver cannot be restarted'); }
  async kill(): Promise<void> { throw new NotSupportedError('hosts without a driver cannot be killed'); }
  async remove(): Promise<void> {}
  async state(): Promise<MachineState> { return 'Running'; }
  async ip(): Promise<string> { return this.settings.IPAddress; }
  connection(): Connection { return { kind: 'none' }; }
  installPrefix(): string { return ''; }
  enginePort(): number { return this.settings.EnginePort; }
}

/** tcp://HOST:PORT (the port defaults to 2376); IPv6 hosts in brackets. */
export function parseEngineUrl(url: string): { host: string; port: number } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InvalidArgumentError(`--url "${url}" is not a URL`, { hint: '--url tcp://HOST:PORT' });
  }
  if (u.protocol !== 'tcp:' || !u.hostname) throw new InvalidArgumentError(`--url "${url}": expected tcp://HOST:PORT`);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : 2376 };
}

export const noneDriver: DriverFactory = {
  ...noneInfo,
  fromFlags(base, flags: FlagValues) {
    const url = String(flags['none-url'] ?? '');
    if (!url) throw new InvalidArgumentError('--url option is required when no driver is selected', { hint: 'berth machine create -d none --url tcp://HOST:PORT NAME' });
    const { host, port } = parseEngineUrl(url);
    return new NoneDriver({ ...base, IPAddress: host, EnginePort: port, SSHUser: '', SSHPort: 0, SSHKeyPath: '', URL: url });
  },
  fromSettings: (s) => new NoneDriver(s),
};
