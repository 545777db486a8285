import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, MachineError, MachineExistsError, MachineNotFoundError, NotSupportedError, ProvisionError, TimeoutError, UnreachableError, reason } from '../../src/machine/errors.js';
import type { DriverSettings } from '../../src/machine/store/host.js';
import type { Connection, Driver, DriverFactory, EngineService, FlagValues, MachineState } from '../driver.js';
import { virtualboxInfo } from './info.js';
import { resolveImage, type BootMedia } from './image.js';
import { hostOnlyPlan, parseShare, sshGuestIp } from './net.js';
import { freePort, sshBanner } from '../dial.js';
import { writeSeedIso } from '../../src/machine/image/seed.js';
import { LogonError, SUPPORTED_API, Vbox, VboxError } from './vbox.js';

/** A create stopped by SIGINT/SIGTERM at its next step (after undoing what it made). */
class CreateInterrupted extends MachineError {}

/** The guest property where the Guest Additions publish NIC 2's (host-only) address. */
const IP_PROPERTY = '/VirtualBox/GuestInfo/Net/1/V4/IP';
const NIC_TYPES: Record<string, string> = { Am79C970A: 'Am79C970A', Am79C973: 'Am79C973', '82540EM': 'I82540EM', '82543GC': 'I82543GC', '82545EM': 'I82545EM', virtio: 'Virtio' };



/** Seconds a boot may take before SSH answers (BERTH_SSH_TIMEOUT, as for every SSH wait). */
function bootTimeoutMs(): number {
  const s = Number(process.env.BERTH_SSH_TIMEOUT);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 120_000;
}

/**
 * A VirtualBox VM made and driven through vboxwebsrv's SOAP API (VirtualBox 7.0):
 * NIC 1 NAT with SSH forwarded from a 127.0.0.1 port, NIC 2 host-only (the address
 * clients reach the engine on). create() undoes its own steps when one fails or when
 * remove() interrupts it (Ctrl-C), so nothing is left in VirtualBox either way.
 */
export class VirtualBoxDriver implements Driver {
  readonly name = 'virtualbox';
  private conn?: Promise<Vbox>;
  private creating?: Promise<void>;
  /** Set by remove(): a create still running in this process stops at its next step. */
  private removing = false;
  private createAbort?: AbortSignal;
  private get interrupted(): boolean { return this.removing || !!this.createAbort?.aborted; }
  private liveIp?: string;
  private media?: BootMedia;

  constructor(readonly settings: DriverSettings) {}

  private get s() {
    const s = this.settings;
    return {
      url: String(s.WebserviceURL), user: String(s.WebserviceUser ?? ''), password: String(s.WebservicePassword ?? ''),
      cpus: Number(s.CPU), memory: Number(s.Memory), diskMb: Number(s.DiskSize), cidr: String(s.HostOnlyCIDR),
      hostOnlyNic: String(s.HostOnlyNicType), natNic: String(s.NatNicType), noShare: Boolean(s.NoShare), share: String(s.ShareFolder ?? ''),
      noVtx: Boolean(s.NoVTXCheck), ui: String(s.UIType), image: String(s.Image ?? ''), id: String(s.VMId ?? ''),
      dir: join(s.StorePath, 'machines', s.MachineName),
    };
  }

  /** One logged-on web service session per process, checked to speak the 7.0 API. */
  private vbox(): Promise<Vbox> {
    this.conn ??= (async () => {
      const { url, user, password } = this.s;
      let v: Vbox;
      try {
        v = await Vbox.connect(url, user, password, join(this.settings.StorePath, 'cache'));
      } catch (err) {
        if (err instanceof LogonError) {
          throw new InvalidArgumentError(`the VirtualBox web service at ${url} refused the logon${user ? ` of user "${user}"` : ''}: ${err.message}`, {
            hint: 'pass --virtualbox-webservice-user and --virtualbox-webservice-password (VIRTUALBOX_WEBSERVICE_USER/_PASSWORD), or turn authentication off on the VirtualBox host: `VBoxManage setproperty websrvauthlibrary null`',
          });
        }
        throw new UnreachableError(`the VirtualBox web service at ${url} does not answer: ${reason(err)}`, {
          hint: 'start it on the VirtualBox host: `VBoxManage setproperty websrvauthlibrary null` then `vboxwebsrv --background` (or pass --virtualbox-webservice-url)',
        });
      }
      const api = await v.apiVersion().catch((err) => { throw this.fail('asking the API version', err); });
      if (api !== SUPPORTED_API) {
        throw new NotSupportedError(`the VirtualBox web service at ${url} speaks API ${api.replace('_', '.')}; berth's VirtualBox driver supports VirtualBox 7.0 (API 7_0) only`, { hint: 'run VirtualBox 7.0.x there, or use another driver' });
      }
      return v;
    })();
    this.conn.catch(() => { this.conn = undefined; });
    return this.conn;
  }

  private fail(what: string, err: unknown): Error {
    if (err instanceof MachineError) return err;
    const text = err instanceof VboxError ? err.message : reason(err);
    return new ProvisionError(`VirtualBox machine "${this.settings.MachineName}": ${what} failed: ${text}`);
  }

  async preCreateCheck(): Promise<void> {
    const { cidr, share, noShare, noVtx } = this.s;
    hostOnlyPlan(cidr);
    if (!noShare && share) parseShare(share);
    const v = await this.vbox();
    if (await v.findMachine(this.settings.MachineName).catch((e) => { throw this.fail('looking up the name', e); })) {
      throw new MachineExistsError(`VirtualBox already has a machine named "${this.settings.MachineName}"`, { hint: 'pick another name, or remove that VirtualBox machine' });
    }
    if (!noVtx && !(await v.hardwareVirtualization().catch(() => true))) {
      throw new NotSupportedError('the VirtualBox host has no VT-x/AMD-v: its machines would be very slow', { hint: 'turn it on in the firmware, or pass --virtualbox-no-vtx-check' });
    }
    this.media = await resolveImage(this.s.image, this.settings.StorePath);
  }

  /**
   * SIGINT/SIGTERM (Ctrl-C) while creating (`stop` aborted): the current VirtualBox call
   * finishes, what was made is undone, and create fails, so the machine layer keeps nothing.
   */
  async create(stop?: AbortSignal): Promise<void> {
    this.createAbort = stop;
    this.creating = this.makeMachine();
    await this.creating;
  }

  private async makeMachine(): Promise<void> {
    const undo: (() => Promise<unknown>)[] = [];
    const step = async <T>(what: string, fn: () => Promise<T>, rollback?: (t: T) => Promise<unknown>): Promise<T> => {
      if (this.interrupted) throw new CreateInterrupted('interrupted');
      let t: T;
      try {
        t = await fn();
      } catch (err) {
        throw this.fail(what, err);
      }
      if (rollback) undo.push(() => rollback(t));
      if (this.interrupted) throw new CreateInterrupted('interrupted');
      return t;
    };
    const s = this.s;
    const name = this.settings.MachineName;
    try {
      const v = await this.vbox();
      const media = this.media ?? (await step('finding the boot image', () => resolveImage(s.image, this.settings.StorePath)));
      const seed = join(s.dir, 'seed.iso');
      await step('writing the NoCloud seed', async () => writeSeedIso(seed, {
        instanceId: `berth-${name}`, hostname: name, sshPublicKey: await readFile(`${this.settings.SSHKeyPath}.pub`, 'utf8'), dhcpAllNics: true,
      }));
      const plan = hostOnlyPlan(s.cidr);
      const hostIf = await step('setting up the host-only network', async () => {
        const found = (await v.hostOnlyInterfaces()).find((i) => i.ip === plan.ip && i.mask === plan.mask);
        const i = found ?? (await v.createHostOnlyInterface(plan.ip, plan.mask));
        await v.ensureDhcp(i.networkName, plan.dhcpIp, plan.mask, plan.lower, plan.upper);
        return i;
      });
      this.settings.HostOnlyInterface = hostIf.name;
      const sshPort = await step('picking the SSH port', () => freePort());
      this.settings.SSHPort = sshPort;
      const disk = join(s.dir, 'disk.vdi');
      const sizeBytes = s.diskMb * 1024 * 1024;
      await step('creating the disk', () => (media.kind === 'disk' ? v.cloneDisk(media.path, disk, sizeBytes) : v.createDisk(disk, sizeBytes)), () => v.deleteMedium(disk, 'HardDisk'));
      await step('opening the seed', () => v.openDvd(seed), () => v.deleteMedium(seed, 'DVD'));
      if (media.kind === 'iso') await step('opening the boot ISO', () => v.openDvd(media.path));
      const id = await step('creating the machine', () => v.createMachine(name, 'Debian_64', async (m) => {
        await m.setMemorySize(s.memory);
        await m.setCPUCount(s.cpus);
        await m.addStorageController('SATA', 'SATA' as never);
        const nat = await m.getNetworkAdapter(0);
        await nat.setAttachmentType('NAT' as never);
        await nat.setAdapterType(NIC_TYPES[s.natNic] as never);
        await nat.setEnabled(true);
        await (await nat.getNATEngine()).addRedirect('ssh', 'TCP' as never, '127.0.0.1', sshPort, '', 22);
        const ho = await m.getNetworkAdapter(1);
        await ho.setAttachmentType('HostOnly' as never);
        await ho.setHostOnlyInterface(hostIf.name);
        await ho.setAdapterType(NIC_TYPES[s.hostOnlyNic] as never);
        await ho.setEnabled(true);
        if (!s.noShare) {
          const sh = parseShare(s.share || '/home:hosthome');
          await m.createSharedFolder(sh.name, sh.hostPath, true, true, '');
        }
      }), (vmId) => v.deleteMachine(vmId));
      this.settings.VMId = id;
      await step('attaching the disks', () => v.withWriteLock(id, async (m) => {
        await m.attachDevice('SATA', 0, 0, 'HardDisk' as never, await v.openDisk(disk));
        await m.attachDevice('SATA', 1, 0, 'DVD' as never, await v.openDvd(seed));
        if (media.kind === 'iso') await m.attachDevice('SATA', 2, 0, 'DVD' as never, await v.openDvd(media.path));
      }));
      await step('starting it', () => v.launch(id, s.ui), () => v.powerDown(id).catch(() => undefined));
      this.settings.IPAddress = await step('waiting for it to boot', () => this.waitForBoot(v, id));
    } catch (err) {
      for (const u of undo.reverse()) await u().catch(() => undefined);
      throw err;
    }
  }

  /** Waits for the host-only address and for sshd behind the NAT forward; returns the address. */
  private async waitForBoot(v: Vbox, id: string): Promise<string> {
    const limit = bootTimeoutMs();
    const deadline = Date.now() + limit;
    const { cidr } = this.s;
    const port = (await v.natHostPort(id, 'ssh')) || this.settings.SSHPort;
    let ip = '';
    let answering = false;
    while (Date.now() < deadline) {
      if (this.interrupted) throw new CreateInterrupted('interrupted');
      const state = await v.state((await v.findMachine(id))!);
      if (state !== 'Running') throw new ProvisionError(`VirtualBox machine "${this.settings.MachineName}" stopped while booting (state ${state})`, { hint: 'open it in the VirtualBox GUI to see why' });
      ip ||= await v.guestProperty(id, IP_PROPERTY).catch(() => '');
      answering ||= await sshBanner('127.0.0.1', port, 3000);
      if (answering && !ip) ip = await sshGuestIp(this.connection(), hostOnlyPlan(cidr));
      if (ip && answering) return ip;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new TimeoutError(`VirtualBox machine "${this.settings.MachineName}" did not answer SSH on 127.0.0.1:${port} within ${Math.round(limit / 1000)} s`, {
      hint: 'check that the image boots and runs sshd and cloud-init (for the NoCloud seed); watch it with --virtualbox-ui-type gui; BERTH_SSH_TIMEOUT sets the wait in seconds',
    });
  }

  private async vmId(v: Vbox): Promise<string | null> {
    const m = await v.findMachine(this.s.id || this.settings.MachineName);
    return m ? v.machineId(m) : null;
  }

  private async mustVm(v: Vbox): Promise<string> {
    const id = await this.vmId(v);
    if (!id) throw new MachineNotFoundError(`VirtualBox has no machine "${this.settings.MachineName}" any more`, { hint: `remove it from berth with \`berth machine rm -f ${this.settings.MachineName}\`` });
    return id;
  }

  private async vmState(v: Vbox, id: string): Promise<string> { return v.state((await v.findMachine(id))!); }

  async start(engine: EngineService): Promise<void> {
    const v = await this.vbox();
    const id = await this.mustVm(v);
    try {
      if ((await this.vmState(v, id)) !== 'Running') await v.launch(id, this.s.ui);
    } catch (err) {
      throw this.fail('starting it', err);
    }
    this.liveIp = await this.waitForBoot(v, id);
    // systemd starts the engine at boot; asking again is harmless and covers hosts without it.
    await engine.start();
  }

  async stop(): Promise<void> {
    const v = await this.vbox();
    const id = await this.mustVm(v);
    if ((await this.vmState(v, id)) !== 'Running') return;
    await v.powerButton(id).catch((err) => { throw this.fail('pressing the power button', err); });
    const deadline = Date.now() + 90_000;
    while ((await this.vmState(v, id)) === 'Running' || (await this.vmState(v, id)) === 'Stopping') {
      if (Date.now() > deadline) throw new TimeoutError(`VirtualBox machine "${this.settings.MachineName}" did not shut down within 90 s of the power button`, { hint: `berth machine kill ${this.settings.MachineName}` });
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  async restart(engine: EngineService): Promise<void> {
    await this.stop();
    await this.start(engine);
  }

  async kill(): Promise<void> {
    const v = await this.vbox();
    const id = await this.mustVm(v);
    if (!['Running', 'Paused', 'Stuck'].includes(await this.vmState(v, id))) return;
    await v.powerDown(id).catch((err) => { throw this.fail('powering it off', err); });
  }

  async remove(): Promise<void> {
    // A create still running in this process (Ctrl-C) stops at its next step and undoes itself.
    this.removing = true;
    await this.creating?.catch(() => undefined);
    const v = await this.vbox();
    const { dir } = this.s;
    try {
      const id = await this.vmId(v);
      if (id) {
        if (['Running', 'Paused', 'Stuck', 'Starting'].includes(await this.vmState(v, id))) await v.powerDown(id);
        await v.deleteMachine(id);
      }
      await v.deleteMedium(join(dir, 'disk.vdi'), 'HardDisk');
      await v.deleteMedium(join(dir, 'seed.iso'), 'DVD');
    } catch (err) {
      throw this.fail('removing it', err);
    }
  }

  async state(): Promise<MachineState> {
    const v = await this.vbox();
    const id = await this.mustVm(v);
    return machineState(await this.vmState(v, id));
  }

  async ip(): Promise<string> { return this.liveIp ?? this.settings.IPAddress; }
  connection(): Connection {
    const s = this.settings;
    return { kind: 'ssh', host: '127.0.0.1', port: s.SSHPort, user: s.SSHUser, keyPath: s.SSHKeyPath };
  }
  installPrefix(): string { return ''; }
  enginePort(): number { return this.settings.EnginePort; }
}

export function machineState(vbox: string): MachineState {
  switch (vbox) {
    case 'Running': return 'Running';
    case 'Paused': return 'Paused';
    case 'Saved': case 'AbortedSaved': return 'Saved';
    case 'PoweredOff': case 'Aborted': case 'Teleported': return 'Stopped';
    case 'Starting': case 'Restoring': case 'TeleportingIn': return 'Starting';
    case 'Stopping': case 'Saving': return 'Stopping';
    default: return 'Error';
  }
}

const int = (flags: FlagValues, name: string, def: number, min: number): number => {
  const n = Number(flags[name] ?? def);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`--${name} ${flags[name]} must be a whole number of at least ${min}`);
  return n;
};

const nic = (flags: FlagValues, name: string): string => {
  const t = String(flags[name] ?? '82540EM');
  if (!NIC_TYPES[t]) throw new InvalidArgumentError(`--${name} "${t}" is not a VirtualBox NIC type`, { hint: `one of ${Object.keys(NIC_TYPES).join(', ')}` });
  return t;
};

export const virtualboxDriver: DriverFactory = {
  ...virtualboxInfo,
  fromFlags(base, flags: FlagValues) {
    const url = String(flags['virtualbox-webservice-url'] ?? 'http://127.0.0.1:18083/');
    if (!/^https?:\/\/[^/]+/.test(url)) throw new InvalidArgumentError(`--virtualbox-webservice-url "${url}" is not an http(s) URL`, { hint: 'e.g. http://127.0.0.1:18083/' });
    const cidr = String(flags['virtualbox-hostonly-cidr'] ?? '192.168.99.1/24');
    hostOnlyPlan(cidr);
    const ui = String(flags['virtualbox-ui-type'] ?? 'headless');
    if (!['headless', 'gui', 'sdl', 'separate'].includes(ui)) throw new InvalidArgumentError(`--virtualbox-ui-type "${ui}" is not one of headless, gui, sdl, separate`);
    const share = String(flags['virtualbox-share-folder'] ?? '');
    if (share) parseShare(share);
    return new VirtualBoxDriver({
      ...base,
      SSHUser: 'root',
      WebserviceURL: url,
      WebserviceUser: String(flags['virtualbox-webservice-user'] ?? ''),
      WebservicePassword: String(flags['virtualbox-webservice-password'] ?? ''),
      CPU: int(flags, 'virtualbox-cpu-count', 1, 1),
      Memory: int(flags, 'virtualbox-memory', 1024, 64),
      DiskSize: int(flags, 'virtualbox-disk-size', 20000, 100),
      HostOnlyCIDR: cidr,
      HostOnlyNicType: nic(flags, 'virtualbox-hostonly-nictype'),
      NatNicType: nic(flags, 'virtualbox-nat-nictype'),
      NoShare: Boolean(flags['virtualbox-no-share'] ?? false),
      ShareFolder: share,
      NoVTXCheck: Boolean(flags['virtualbox-no-vtx-check'] ?? false),
      UIType: ui,
      Image: String(flags['virtualbox-image'] ?? ''),
      VMId: '',
      HostOnlyInterface: '',
    });
  },
  fromSettings: (s) => new VirtualBoxDriver(s),
};
