import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, type Dirent } from 'node:fs';
import { open, rename, rm, mkdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { writeFileAtomic } from '../atomic.js';
import { crashPoint } from '../crashpoint.js';
import { InvalidArgumentError, LockedError, MachineExistsError, MachineNotFoundError, reason } from '../errors.js';
import { removeStaleLock, withLock } from '../lock.js';
import { writerRuns } from '../pid.js';
import type { HostConfig } from './host.js';
import { migrate, rebase } from './migrate.js';
import { toAbsolute, toStoreRelative } from './paths.js';

export * from './host.js';

/**
 * Where an unfinished create stopped: whether the driver made the host yet, the step,
 * and the pid of the create that wrote it (absent in markers of older berths).
 */
export interface HalfMade { hostCreated: boolean; step: string; pid?: number }

/** A marker as read: `running` when the create that wrote it is another process that still runs. */
export type Unfinished = HalfMade & { running: boolean };

const REMOVING = '.removing-';
/** `.reserving-NAME.PID.HEX`: a reservation on its way into place (see reserve). */
const RESERVING = '.reserving-';
const RESERVING_RE = /^\.reserving-.+\.(\d+)\.[0-9a-f]{8}$/;
const MARKER = 'creating.json';
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9\-.]*$/;

export function validateName(name: string): void {
  if (!NAME_RE.test(name) || name.length > 63) {
    throw new InvalidArgumentError(`invalid machine name "${name}"`, { hint: 'use letters, digits, "-" and "."; start with a letter or digit (at most 63 characters)' });
  }
}

/** BERTH_STORAGE_PATH, else Docker Machine's MACHINE_STORAGE_PATH, else ~/.berth/machine. */
export function defaultStorePath(): string {
  return resolve(process.env.BERTH_STORAGE_PATH || process.env.MACHINE_STORAGE_PATH || join(homedir(), '.berth', 'machine'));
}

/**
 * The machine store: <root>/certs (CA + client cert, shared) and
 * <root>/machines/NAME/{config.json, certs, ssh key}. config.json is written
 * atomically with paths relative to the root, so the store can move.
 */
export class Store {
  readonly root: string;
  readonly certsDir: string;
  readonly machinesDir: string;
  constructor(root: string = defaultStorePath()) {
    this.root = resolve(root);
    this.certsDir = join(this.root, 'certs');
    this.machinesDir = join(this.root, 'machines');
  }

  machineDir(name: string): string { return join(this.machinesDir, name); }
  configPath(name: string): string { return join(this.machineDir(name), 'config.json'); }

  async exists(name: string): Promise<boolean> {
    return stat(this.configPath(name)).then(() => true, () => false);
  }

  // The reads below are synchronous: a store's files are small and local, and `ls` over
  // many machines spends less CPU on a plain read than on a promise through the thread pool.
  async list(): Promise<string[]> {
    let entries: Dirent[] = [];
    try {
      entries = readdirSync(this.machinesDir, { withFileTypes: true });
    } catch { /* no machines yet */ }
    const names: string[] = [];
    for (const e of entries) {
      // A removal killed half-way: the machine was gone already, its files go now.
      if (e.name.startsWith(REMOVING)) await rm(join(this.machinesDir, e.name), { recursive: true, force: true }).catch(() => undefined);
      else if (e.name.startsWith(RESERVING)) await this.sweepReservation(e.name);
      else if (e.isDirectory() && existsSync(this.configPath(e.name))) names.push(e.name);
    }
    await this.sweepLocks(names);
    return names.sort();
  }

  async load(name: string): Promise<HostConfig> {
    validateName(name);
    let text: string;
    try {
      text = readFileSync(this.configPath(name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new MachineNotFoundError(`Host does not exist: "${name}"`, { hint: 'see `berth machine ls`' });
      }
      throw err;
    }
    let raw: Record<string, any>;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new InvalidArgumentError(`machine "${name}": ${this.configPath(name)} is not valid JSON (${reason(err)})`, { hint: `fix or remove ${this.machineDir(name)}` });
    }
    const host = migrate(raw, name);
    const oldRoot = host.Driver?.StorePath;
    const rebased = isAbsolute(oldRoot ?? '') ? rebase(host, oldRoot, this.root) : host;
    return toAbsolute(rebased, this.root);
  }

  async save(host: HostConfig): Promise<void> {
    await mkdir(this.machineDir(host.Name), { recursive: true, mode: 0o700 });
    const onDisk = toStoreRelative(host, this.root);
    await writeFileAtomic(this.configPath(host.Name), JSON.stringify(onDisk, null, 4) + '\n', 0o600);
  }

  /**
   * Reserve a new machine's directory for this process: made under a temp name with the
   * unfinished-create marker (`step`, this pid) inside, then renamed into place, so no
   * other command ever sees the directory without its marker and takes it for the
   * leftover of a killed create. Under the machine's lock, as every other decision to
   * take a directory over: a leftover (no config.json, its creator gone) is replaced;
   * a name that is a machine, or that a running create holds, is refused.
   */
  async reserve(name: string, step: string): Promise<void> {
    validateName(name);
    await mkdir(this.machinesDir, { recursive: true, mode: 0o700 });
    await this.withMachineLock(name, async () => {
      for (const f of readdirSync(this.machinesDir)) if (f.startsWith(RESERVING)) await this.sweepReservation(f);
      const marker = await this.unfinished(name);
      if (marker?.running) throw createRunning(name, marker);
      // This process's own marker: the name is reserved already.
      if (marker?.pid === process.pid || (await this.exists(name))) throw machineExists(name);
      // Killed before its first save: nothing was made on the driver's side yet.
      await this.remove(name);
      const tmp = join(this.machinesDir, `${RESERVING}${name}.${process.pid}.${randomBytes(4).toString('hex')}`);
      await mkdir(tmp, { mode: 0o700 });
      await writeFileAtomic(join(tmp, MARKER), JSON.stringify({ hostCreated: false, step, pid: process.pid }) + '\n', 0o600);
      crashPoint('reserve:temp');
      try {
        await rename(tmp, this.machineDir(name));
      } catch (err) {
        await rm(tmp, { recursive: true, force: true });
        // A directory made without the lock (an older berth, or by hand) since the check above.
        if (['EEXIST', 'ENOTEMPTY'].includes((err as NodeJS.ErrnoException).code ?? '')) throw machineExists(name);
        throw err;
      }
      await syncDir(this.machinesDir);
      crashPoint('reserve:placed');
    });
  }

  /**
   * A create that has not finished leaves `creating.json` beside config.json (put there
   * by reserve, removed after the last step), so a Ctrl-C or kill -9 leaves a machine
   * that the next create resumes and that other commands refuse to use.
   */
  private halfMadePath(name: string): string { return join(this.machineDir(name), MARKER); }

  /** The unfinished-create marker of NAME, if any. */
  async unfinished(name: string): Promise<Unfinished | null> {
    let text: string;
    try {
      // Most machines have none: a missing file asked first costs less than the error of a failed read (ls asks for each).
      if (!existsSync(this.halfMadePath(name))) return null;
      text = readFileSync(this.halfMadePath(name), 'utf8');
    } catch {
      return null;
    }
    let m: HalfMade;
    try { m = JSON.parse(text) as HalfMade; } catch { m = { hostCreated: true, step: 'unknown' }; } // torn write: assume the worst
    return { ...m, running: typeof m.pid === 'number' && m.pid !== process.pid && writerRuns(m.pid, this.halfMadePath(name)) };
  }

  /** The marker of NAME as `unfinished` does; throws when another process is creating NAME right now. */
  async refuseWhileCreating(name: string): Promise<Unfinished | null> {
    const m = await this.unfinished(name);
    if (m?.running) throw createRunning(name, m);
    return m;
  }

  /**
   * Takes over the unfinished create of NAME (its marker then carries this pid), or
   * returns null when there is none; refused while the create that wrote it runs.
   */
  async claimUnfinished(name: string): Promise<Unfinished | null> {
    return this.withMachineLock(name, async () => {
      const m = await this.unfinished(name);
      if (!m) return null;
      if (m.running) throw createRunning(name, m);
      await this.markHalfMade(name, m);
      return { ...m, pid: process.pid };
    });
  }

  async markHalfMade(name: string, m: HalfMade): Promise<void> {
    await writeFileAtomic(this.halfMadePath(name), JSON.stringify({ hostCreated: m.hostCreated, step: m.step, pid: process.pid }) + '\n', 0o600);
  }

  async clearHalfMade(name: string): Promise<void> {
    await rm(this.halfMadePath(name), { force: true });
  }

  /** A machine directory without config.json: a create killed before its first save. */
  async isLeftover(name: string): Promise<boolean> {
    const dir = await stat(this.machineDir(name)).then(() => true, () => false);
    return dir && !(await this.exists(name));
  }

  /**
   * The directory is renamed away first (atomic), then deleted: a kill -9 while it is
   * deleted leaves no machine half there (keys without config.json), only a
   * `.removing-*` directory that the next listing deletes.
   */
  async remove(name: string): Promise<void> {
    const doomed = join(this.machinesDir, `${REMOVING}${name}-${randomBytes(4).toString('hex')}`);
    try {
      await rename(this.machineDir(name), doomed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    crashPoint('rm:store');
    await rm(doomed, { recursive: true, force: true });
  }

  /** A reservation whose process died before renaming it into place. */
  private async sweepReservation(entry: string): Promise<void> {
    const m = RESERVING_RE.exec(entry);
    if (m && !writerRuns(Number(m[1]), join(this.machinesDir, entry))) await rm(join(this.machinesDir, entry), { recursive: true, force: true }).catch(() => undefined); // another sweeper got it first
  }

  /** Locks of removed machines left by a command killed while holding them (rm killed half-way). */
  private async sweepLocks(names: string[]): Promise<void> {
    const dir = join(this.root, 'locks');
    let files: string[] = [];
    try {
      files = readdirSync(dir);
    } catch { /* no locks yet */ }
    for (const f of files) {
      const name = f.replace(/\.lock$/, '');
      if (f.endsWith('.lock') && name !== 'certs' && !names.includes(name)) await removeStaleLock(join(dir, f));
    }
  }

  /** Serialises commands on one machine across processes. */
  withMachineLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return withLock(join(this.root, 'locks', `${name}.lock`), `machine "${name}"`, fn);
  }
}

function machineExists(name: string): MachineExistsError {
  return new MachineExistsError(`Host already exists: "${name}"`, { hint: `pick another name, or remove it with \`berth machine rm ${name}\`` });
}

function createRunning(name: string, m: HalfMade): LockedError {
  return new LockedError(`a create of machine "${name}" is running (process ${m.pid}, at "${m.step}")`, {
    hint: `wait for it to finish, or stop it (kill ${m.pid}) and remove the machine with \`berth machine rm -f ${name}\``,
  });
}

async function syncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try { await dh.sync(); } finally { await dh.close(); }
}
