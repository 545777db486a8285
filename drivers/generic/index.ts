import { listening } from '../dial.js';
import { isIP } from 'node:net';
import { InvalidArgumentError, NotSupportedError } from '../../src/machine/errors.js';
import type { DriverSettings } from '../../src/machine/store/host.js';
import type { Driver, DriverFactory, FlagValues, MachineState, Connection } from '../driver.js';
import { genericInfo } from './info.js';

/**
 * An existing host reached over SSH. Its state is whether the SSH port answers;
 * berth cannot power it on or off, so start/stop/kill are not supported, restart
 * reboots it, and remove leaves the host alone.
 */
export class GenericDriver implements Driver {
  readonly name = 'generic';
  readonly existingHost = true;
  constructor(readonly settings: DriverSettings) {}

  async preCreateCheck(): Promise<void> {
    if (!this.settings.IPAddress) {
      throw new InvalidArgumentError('generic driver requires --generic-ip-address', { hint: 'berth machine create -d generic --generic-ip-address IP NAME' });
    }
  }
  async create(): Promise<void> {}
  async start(): Promise<void> { throw new NotSupportedError('the generic driver cannot start a host: power it on yourself'); }
  async stop(): Promise<void> { throw new NotSupportedError('the generic driver cannot stop a host: shut it down yourself'); }
  async kill(): Promise<void> { throw new NotSupportedError('the generic driver cannot kill a host'); }
  async restart(): Promise<void> {
    // Docker Machine reboots the host here. berth leaves that to the user: a reboot
    // issued from a test's namespace host would reboot the computer running the test.
    throw new NotSupportedError('the generic driver restarts a host by rebooting it over SSH: run `berth machine ssh NAME reboot`');
  }
  async remove(): Promise<void> {}

  async state(): Promise<MachineState> {
    return (await listening(this.settings.IPAddress, this.settings.SSHPort, 5000)) ? 'Running' : 'Stopped';
  }

  async ip(): Promise<string> { return this.settings.IPAddress; }
  connection(): Connection {
    const s = this.settings;
    return { kind: 'ssh', host: s.IPAddress, port: s.SSHPort, user: s.SSHUser, keyPath: s.SSHKeyPath };
  }
  installPrefix(): string { return ''; }
  enginePort(): number { return this.settings.EnginePort; }
}

export const genericDriver: DriverFactory = {
  ...genericInfo,
  fromFlags(base, flags: FlagValues) {
    const ip = String(flags['generic-ip-address'] ?? '');
    if (!ip) throw new InvalidArgumentError('generic driver requires --generic-ip-address', { hint: 'berth machine create -d generic --generic-ip-address IP NAME' });
    if (!isIP(ip) && !/^[a-zA-Z0-9][a-zA-Z0-9.-]*$/.test(ip)) throw new InvalidArgumentError(`--generic-ip-address "${ip}" is neither an IP address nor a host name`);
    return new GenericDriver({
      ...base,
      IPAddress: ip,
      SSHUser: String(flags['generic-ssh-user'] ?? 'root'),
      SSHPort: Number(flags['generic-ssh-port'] ?? 22),
      SSHKeyPath: flags['generic-ssh-key'] ? String(flags['generic-ssh-key']) : base.SSHKeyPath,
      EnginePort: Number(flags['generic-engine-port'] ?? 2376),
    });
  },
  fromSettings: (s) => new GenericDriver(s),
};
