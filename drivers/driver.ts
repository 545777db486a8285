/**
 * The driver contract, split by concern: lifecycle (what a provider can do to a
 * machine), connection (how berth reaches it) and flag declarations (what `create`
 * accepts). A driver that cannot do something throws NotSupportedError.
 *
 * Drivers depend only on two leaf modules of src/machine: the error kinds and the
 * state type; the machine library depends on drivers, never the other way.
 */
import type { MachineState } from '../src/machine/state.js';
import type { DriverSettings } from '../src/machine/store/host.js';

export type { MachineState };

export type FlagType = 'string' | 'stringList' | 'int' | 'bool';
export type FlagValue = string | string[] | number | boolean;

export interface DriverFlag {
  /** Full flag name, prefixed by the driver's name: "generic-ip-address". */
  name: string;
  /** Other names create accepts, e.g. Docker Machine's unprefixed `--url` of the none driver. */
  aliases?: string[];
  type: FlagType;
  usage: string;
  envVar?: string;
  default?: FlagValue;
  required?: boolean;
}

/** What the machine layer lends a driver for lifecycle calls that touch the engine service. */
export interface EngineService {
  start(): Promise<void>;
  stop(): Promise<void>;
  kill(): Promise<void>;
  running(): Promise<boolean>;
}

export interface DriverLifecycle {
  /** Checks run before anything is made: bad flags, missing tools, unreachable APIs. */
  preCreateCheck(): Promise<void>;
  /** `stop` aborts at SIGINT/SIGTERM: a driver with long work stops at its next step and undoes what it made. */
  create(stop?: AbortSignal): Promise<void>;
  start(engine: EngineService): Promise<void>;
  stop(engine: EngineService): Promise<void>;
  restart(engine: EngineService): Promise<void>;
  kill(engine: EngineService): Promise<void>;
  /**
   * Removes the provider's resources; a generic host is left alone. `createFailed`:
   * undo a create that did not finish (also what a plain rm would keep).
   */
  remove(opts?: { createFailed?: boolean }): Promise<void>;
  state(engine: EngineService): Promise<MachineState>;
}

export type Connection =
  | { kind: 'ssh'; host: string; port: number; user: string; keyPath: string }
  | { kind: 'local' }
  /** Nothing to reach (none driver): the engine is registered by its URL only. */
  | { kind: 'none' };

export interface DriverConnection {
  ip(): Promise<string>;
  connection(): Connection;
  /** The directory under which the engine is installed on the host ('' = /). */
  installPrefix(): string;
  enginePort(): number;
}

export interface Driver extends DriverLifecycle, DriverConnection {
  readonly name: string;
  /** The host was up before berth came (generic): a refused SSH port is then an error, not a host still booting. */
  readonly existingHost?: boolean;
  /** Serialised into config.json's "Driver". */
  readonly settings: DriverSettings;
}

export type FlagValues = Record<string, FlagValue | undefined>;

/** What `create` lists and parses for a driver: known without loading the driver's module. */
export interface DriverInfo {
  readonly name: string;
  readonly description: string;
  readonly flags: DriverFlag[];
}

export interface DriverFactory extends DriverInfo {
  /** A new machine: base settings (name, store, ssh key path) plus the parsed flags. */
  fromFlags(base: DriverSettings, flags: FlagValues): Driver;
  /** A stored machine. */
  fromSettings(settings: DriverSettings): Driver;
}

export function baseSettings(machineName: string, storePath: string, sshKeyPath: string): DriverSettings {
  return { IPAddress: '', MachineName: machineName, SSHUser: 'root', SSHPort: 22, SSHKeyPath: sshKeyPath, StorePath: storePath, EnginePort: 2376 };
}
