import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { InvalidArgumentError, ProvisionError, TimeoutError, reason } from '../../src/machine/errors.js';
import { DEFAULT_RELEASE, imageCacheDir, imagePaths, type ImageManifest } from '../../src/machine/image/paths.js';
import type { DriverSettings } from '../../src/machine/store/host.js';
import type { Connection, Driver, DriverFactory, FlagValues, MachineState } from '../driver.js';
import { qemuInfo } from './info.js';
import { ACCELS, qemuArgs, type Boot, type Forward, type QemuSpec } from './args.js';
import { findBinary, hostTscKhz, launch, pidAlive, readPid } from './process.js';
import { freePort, sshBanner } from '../dial.js';
import { withQmp } from './qmp.js';
import { downloadOnce } from '../../src/machine/image/download.js';
import { ISO_TOOLS, writeSeedIso } from '../../src/machine/image/seed.js';

const exec = promisify(execFile);

/** QEMU's user-mode network gives the guest this address. */
export const GUEST_IP = '10.0.2.15';

/** Everything a qemu machine keeps in config.json beside the base settings. */
export interface QemuSettings extends DriverSettings {
  QemuBinary: string;
  QemuAccel: string;
  QemuAccelUsed?: string;
  QemuCPUs: number;
  QemuMemory: number;
  QemuDiskSize: number;
  /** '' = the image `berth machine image build` made; else a path or URL. */
  QemuImage: string;
  QemuForwards: string[];
  GuestIPAddress: string;
}

/** How long boot-to-SSH may take: 600 s (emulation is slow), or BERTH_QEMU_BOOT_TIMEOUT seconds. */
function bootTimeoutMs(): number {
  const s = Number(process.env.BERTH_QEMU_BOOT_TIMEOUT);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 600_000;
}

/**
 * A local VM run by QEMU: a qcow2 overlay on a base image, a NoCloud seed, user-mode
 * networking with SSH and the engine port forwarded from 127.0.0.1. QMP answers for
 * its state; stop is an ACPI powerdown, kill a QMP quit; start launches it again
 * from its overlay.
 */
export class QemuDriver implements Driver {
  readonly name = 'qemu';
  constructor(readonly settings: QemuSettings) {}

  private get dir(): string { return join(this.settings.StorePath, 'machines', this.settings.MachineName); }
  private file(name: string): string { return join(this.dir, name); }
  get overlay(): string { return this.file('disk.qcow2'); }
  get seed(): string { return this.file('seed.iso'); }
  get qmpSocket(): string { return this.file('qmp.sock'); }
  get pidfile(): string { return this.file('qemu.pid'); }
  get consoleLog(): string { return this.file('console.log'); }

  async preCreateCheck(): Promise<void> {
    const s = this.settings;
    if (!(await findBinary(s.QemuBinary))) throw new InvalidArgumentError(`the QEMU binary "${s.QemuBinary}" is not installed`, { hint: 'apt-get install qemu-system-x86, or pass --qemu-binary PATH' });
    if (!(await findBinary('qemu-img'))) throw new InvalidArgumentError('qemu-img is not installed', { hint: 'apt-get install qemu-utils' });
    if (!(await isoTool())) throw new InvalidArgumentError('no tool to write the seed ISO (xorriso, genisoimage)', { hint: 'apt-get install xorriso' });
    if (s.QemuAccel === 'kvm' && !(await access('/dev/kvm', constants.R_OK | constants.W_OK).then(() => true, () => false))) {
      throw new InvalidArgumentError('--qemu-accel kvm: /dev/kvm is missing or not writable', { hint: 'load the kvm module and join the kvm group, or use --qemu-accel kvm:tcg' });
    }
    if (!s.QemuImage) {
      if (!(await builtImage(imagePaths(imageCacheDir(s.StorePath), DEFAULT_RELEASE).qcow2))) {
        throw new InvalidArgumentError(`no VM image in ${imageCacheDir(s.StorePath)}`, { hint: 'build it once with `berth machine image build` (or pass --qemu-image PATH|URL)' });
      }
    } else if (!isUrl(s.QemuImage) && !(await stat(s.QemuImage).then((x) => x.isFile(), () => false))) {
      throw new InvalidArgumentError(`--qemu-image ${s.QemuImage}: no such file`, { hint: 'pass an image file (qcow2 or raw) or an http(s) URL' });
    }
  }

  async create(): Promise<void> {
    const s = this.settings;
    const base = await this.baseImage();
    await mkdir(this.dir, { recursive: true });
    const size = `${s.QemuDiskSize}M`;
    const baseSize = await virtualSize(base.path, base.format);
    await exec('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', base.format, '-b', base.path, this.overlay, ...(baseSize < s.QemuDiskSize * 1048576 ? [size] : [])])
      .catch((err) => { throw new ProvisionError(`qemu-img could not make the overlay ${this.overlay}: ${stderrOf(err)}`); });
    const pub = await readFile(`${s.SSHKeyPath}.pub`, 'utf8').catch(() => { throw new ProvisionError(`the machine's public key ${s.SSHKeyPath}.pub is missing`); });
    await writeSeedIso(this.seed, { instanceId: `berth-${s.MachineName}-${Date.now().toString(36)}`, hostname: s.MachineName, sshPublicKey: pub }, await isoTool());
    s.SSHPort = await freePort();
    s.EnginePort = await freePort();
    await this.boot();
  }

  async start(): Promise<void> {
    if (await this.running()) return;
    await this.boot();
  }

  async stop(): Promise<void> {
    const pid = await readPid(this.pidfile);
    if (!(await pidAlive(pid))) return void (await rm(this.pidfile, { force: true }));
    await withQmp(this.qmpSocket, (q) => q.powerdown());
    // A guest shuts down in seconds with KVM, in tens of seconds under emulation.
    if (!(await waitExit(pid, 180_000))) {
      await this.kill();
      throw new TimeoutError(`machine "${this.settings.MachineName}" did not power off within 180 s: it was stopped hard`);
    }
    await rm(this.pidfile, { force: true });
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async kill(): Promise<void> {
    const pid = await readPid(this.pidfile);
    if (await pidAlive(pid)) {
      await withQmp(this.qmpSocket, (q) => q.quit()).catch(() => process.kill(pid, 'SIGKILL'));
      if (!(await waitExit(pid, 10_000))) process.kill(pid, 'SIGKILL');
      await waitExit(pid, 10_000);
    }
    await rm(this.pidfile, { force: true });
  }

  async remove(): Promise<void> {
    await this.kill();
    for (const f of [this.overlay, this.seed, this.qmpSocket, this.consoleLog]) await rm(f, { force: true });
  }

  async state(): Promise<MachineState> {
    const pid = await readPid(this.pidfile);
    if (!pid) return 'Stopped';
    // A pidfile QEMU did not remove: it died (killed, crashed) rather than powered off.
    if (!(await pidAlive(pid))) return 'Error';
    try {
      const st = await withQmp(this.qmpSocket, (q) => q.status(), 3000);
      return qmpState(st.status);
    } catch {
      return 'Error';
    }
  }

  async ip(): Promise<string> { return '127.0.0.1'; }
  connection(): Connection {
    const s = this.settings;
    return { kind: 'ssh', host: '127.0.0.1', port: s.SSHPort, user: s.SSHUser, keyPath: s.SSHKeyPath };
  }
  installPrefix(): string { return ''; }
  enginePort(): number { return this.settings.EnginePort; }

  private async running(): Promise<boolean> {
    return pidAlive(await readPid(this.pidfile));
  }

  /** Launches QEMU from the overlay and waits until the guest's sshd answers. */
  private async boot(): Promise<void> {
    const s = this.settings;
    const spec = await this.spec();
    await rm(this.pidfile, { force: true });
    await rm(this.qmpSocket, { force: true });
    try {
      await launch(await findBinary(s.QemuBinary), qemuArgs(spec));
    } catch (err) {
      const msg = reason(err);
      const hint = /hostfwd|host forwarding/i.test(msg) ? `a forwarded port (${s.SSHPort}, ${s.EnginePort}) is taken on 127.0.0.1: free it and run \`berth machine start ${s.MachineName}\``
        : /kvm/i.test(msg) ? 'use --qemu-accel tcg, or fix /dev/kvm' : undefined;
      throw new ProvisionError(`QEMU did not start machine "${s.MachineName}": ${msg}`, { hint });
    }
    s.QemuAccelUsed = (await withQmp(this.qmpSocket, (q) => q.kvmEnabled()).catch(() => false)) ? 'kvm' : 'tcg';
    await this.waitForSsh(bootTimeoutMs());
  }

  private async waitForSsh(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const pid = await readPid(this.pidfile);
    while (!(await sshBanner('127.0.0.1', this.settings.SSHPort))) {
      if (!(await pidAlive(pid))) throw new ProvisionError(`QEMU exited while machine "${this.settings.MachineName}" booted${await this.consoleTail()}`);
      if (Date.now() > deadline) {
        throw new TimeoutError(`machine "${this.settings.MachineName}" did not answer SSH on 127.0.0.1:${this.settings.SSHPort} within ${Math.round(timeoutMs / 1000)} s (accelerator ${this.settings.QemuAccelUsed})${await this.consoleTail()}`,
          { hint: 'set BERTH_QEMU_BOOT_TIMEOUT=SECONDS for slow emulation, or use KVM' });
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  private async consoleTail(): Promise<string> {
    const text = await readFile(this.consoleLog, 'utf8').catch(() => '');
    const tail = text.trim().split('\n').slice(-8).join('\n');
    return tail ? `\nconsole (${this.consoleLog}):\n${tail}` : '';
  }

  private async spec(): Promise<QemuSpec> {
    const s = this.settings;
    const base = await this.baseImage();
    const forwards: Forward[] = [{ hostPort: s.SSHPort, guestPort: 22 }, { hostPort: s.EnginePort, guestPort: s.EnginePort }, ...s.QemuForwards.map(parseForward)];
    return {
      name: s.MachineName, accel: s.QemuAccel, cpus: s.QemuCPUs, memoryMiB: s.QemuMemory,
      disk: this.overlay, diskFormat: 'qcow2', seed: this.seed, boot: base.boot, forwards,
      qmpSocket: this.qmpSocket, pidfile: this.pidfile, consoleLog: this.consoleLog,
      tscKhz: base.boot.kind === 'direct' ? await hostTscKhz() : undefined,
    };
  }

  /** The base image: berth's own (direct kernel boot), or the --qemu-image file or download (boots by itself). */
  private async baseImage(): Promise<{ path: string; format: string; boot: Boot }> {
    const s = this.settings;
    const path = !s.QemuImage ? imagePaths(imageCacheDir(s.StorePath), DEFAULT_RELEASE).qcow2
      : isUrl(s.QemuImage) ? await downloadOnce(s.QemuImage, join(imageCacheDir(s.StorePath), 'downloads'), '--qemu-image') : s.QemuImage;
    const own = await builtImage(path);
    if (own) return { path, format: path.endsWith('.raw') ? 'raw' : 'qcow2', boot: { kind: 'direct', kernel: own.kernel, initrd: own.initrd, cmdline: own.manifest.cmdline } };
    return { path, format: await imageFormat(path), boot: { kind: 'firmware' } };
  }
}

/** A qcow2 or raw of `berth machine image build`, known by its manifest beside it. */
async function builtImage(path: string): Promise<{ kernel: string; initrd: string; manifest: ImageManifest } | null> {
  const m = /^debian-([a-z][a-z0-9-]*)\.(qcow2|raw)$/.exec(basename(path));
  if (!m) return null;
  const p = imagePaths(dirname(path), m[1]);
  try {
    const manifest = JSON.parse(await readFile(p.manifest, 'utf8')) as ImageManifest;
    for (const f of [p.kernel, p.initrd, path]) await stat(f);
    return { kernel: p.kernel, initrd: p.initrd, manifest };
  } catch {
    return null;
  }
}

export function qmpState(status: string): MachineState {
  switch (status) {
    case 'running': return 'Running';
    case 'paused': case 'suspended': return 'Paused';
    case 'shutdown': return 'Stopping';
    case 'inmigrate': case 'prelaunch': case 'finish-migrate': case 'postmigrate': case 'restore-vm': return 'Starting';
    case 'save-vm': return 'Saved';
    default: return 'Error';
  }
}

export function parseForward(v: string): Forward {
  const m = /^(\d+):(\d+)$/.exec(v.trim());
  const ok = (n: number) => Number.isInteger(n) && n > 0 && n < 65536;
  if (!m || !ok(Number(m[1])) || !ok(Number(m[2]))) throw new InvalidArgumentError(`--qemu-forward "${v}": expected HOSTPORT:GUESTPORT`, { hint: 'e.g. --qemu-forward 8080:80 forwards 127.0.0.1:8080 to the guest\'s port 80' });
  return { hostPort: Number(m[1]), guestPort: Number(m[2]) };
}

function isUrl(s: string): boolean { return /^https?:\/\//.test(s); }

async function isoTool(): Promise<string> {
  for (const t of ISO_TOOLS) if (await findBinary(t)) return t;
  return '';
}

async function waitExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await pidAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
  return true;
}

function stderrOf(err: unknown): string {
  return ((err as { stderr?: string }).stderr ?? '').trim() || reason(err);
}

async function imageFormat(path: string): Promise<string> {
  const info = await exec('qemu-img', ['info', '--output=json', path]).catch((err) => { throw new InvalidArgumentError(`--qemu-image ${path} is not a disk image qemu-img can read: ${stderrOf(err)}`); });
  return String(JSON.parse(info.stdout).format);
}

async function virtualSize(path: string, format: string): Promise<number> {
  const info = await exec('qemu-img', ['info', '--output=json', '-f', format, path]);
  return Number(JSON.parse(info.stdout)['virtual-size']);
}

function positive(flags: FlagValues, name: string, def: number): number {
  const v = Number(flags[name] ?? def);
  if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError(`--${name} ${flags[name]} must be a positive whole number`);
  return v;
}

export const qemuDriver: DriverFactory = {
  ...qemuInfo,
  fromFlags(base, flags: FlagValues) {
    const accel = String(flags['qemu-accel'] ?? 'kvm:tcg');
    if (!(ACCELS as readonly string[]).includes(accel)) throw new InvalidArgumentError(`--qemu-accel "${accel}" is not one of ${ACCELS.join(', ')}`);
    const forwards = ((flags['qemu-forward'] as string[] | undefined) ?? []).flatMap((v) => v.split(',')).filter(Boolean);
    forwards.forEach(parseForward);
    return new QemuDriver({
      ...base,
      SSHUser: 'root', IPAddress: '127.0.0.1', SSHPort: 0, EnginePort: 0,
      QemuBinary: String(flags['qemu-binary'] || 'qemu-system-x86_64'),
      QemuAccel: accel,
      QemuCPUs: positive(flags, 'qemu-cpu-count', 1),
      QemuMemory: positive(flags, 'qemu-memory', 1024),
      QemuDiskSize: positive(flags, 'qemu-disk-size', 20000),
      QemuImage: String(flags['qemu-image'] ?? ''),
      QemuForwards: forwards,
      GuestIPAddress: GUEST_IP,
    });
  },
  fromSettings: (s) => new QemuDriver(s as QemuSettings),
};
