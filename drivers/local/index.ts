import { InvalidArgumentError } from '../../src/machine/errors.js';
import type { DriverSettings } from '../../src/machine/store/host.js';
import { dropClaim, readClaim, sameOwner, writeClaim, type Claim } from './claim.js';
import { listening } from '../dial.js';
import type { Driver, DriverFactory, EngineService, FlagValues, MachineState, Connection } from '../driver.js';
import { localInfo } from './info.js';

/**
 * This host itself, reached without SSH: commands run locally as root. The machine
 * is the engine service, so start/stop/restart/kill act on berthd. `--local-prefix`
 * installs everything under a directory (several local machines side by side, tests).
 */
export class LocalDriver implements Driver {
  readonly name = 'local';
  constructor(readonly settings: DriverSettings) {}

  async preCreateCheck(): Promise<void> {
    if (process.getuid?.() !== 0) throw new InvalidArgumentError('the local driver needs root', { hint: 'run berth as root' });
    if (process.platform !== 'linux') throw new InvalidArgumentError(`the local driver runs the engine on this host, which must be Linux (this is ${process.platform})`);
    const prefix = this.installPrefix();
    const where = prefix ? `--local-prefix ${prefix}` : 'the default prefix (/)';
    const owner = await readClaim(prefix);
    if (owner && !sameOwner(owner, this.claim())) {
      throw new InvalidArgumentError(`${where} holds the engine of machine "${owner.name}" (store ${owner.store}, port ${owner.port}): a second local machine needs its own`,
        { hint: `pass --local-prefix DIR and --local-engine-port PORT, or remove "${owner.name}" first` });
    }
    const port = this.enginePort();
    if (await listening(this.settings.IPAddress || '127.0.0.1', port)) {
      throw new InvalidArgumentError(`port ${port} on ${this.settings.IPAddress} is already in use${owner ? '' : ' (another engine or program)'}: the engine of a new local machine cannot listen there`,
        { hint: 'pass --local-engine-port PORT with a free port' });
    }
  }
  async create(): Promise<void> { await writeClaim(this.installPrefix(), this.claim()); }
  async start(engine: EngineService): Promise<void> { await engine.start(); }
  async stop(engine: EngineService): Promise<void> { await engine.stop(); }
  async restart(engine: EngineService): Promise<void> { await engine.stop(); await engine.start(); }
  async kill(engine: EngineService): Promise<void> { await engine.kill(); }
  async remove(): Promise<void> { await dropClaim(this.installPrefix(), this.claim()); }

  private claim(): Claim {
    return { store: this.settings.StorePath, name: this.settings.MachineName, port: this.enginePort() };
  }
  async state(engine: EngineService): Promise<MachineState> {
    return (await engine.running()) ? 'Running' : 'Stopped';
  }

  async ip(): Promise<string> { return this.settings.IPAddress; }
  connection(): Connection { return { kind: 'local' }; }
  installPrefix(): string { return String(this.settings.InstallPrefix ?? ''); }
  enginePort(): number { return this.settings.EnginePort; }
}

export const localDriver: DriverFactory = {
  ...localInfo,
  fromFlags(base, flags: FlagValues) {
    const port = Number(flags['local-engine-port'] ?? 2376);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError(`--local-engine-port ${flags['local-engine-port']} is not a TCP port`);
    const prefix = String(flags['local-prefix'] ?? '');
    if (prefix && !prefix.startsWith('/')) throw new InvalidArgumentError(`--local-prefix "${prefix}" must be an absolute path`);
    return new LocalDriver({ ...base, SSHUser: '', SSHPort: 0, IPAddress: String(flags['local-ip-address'] ?? '127.0.0.1'), EnginePort: port, InstallPrefix: prefix.replace(/\/+$/, '') });
  },
  fromSettings: (s) => new LocalDriver(s),
};
