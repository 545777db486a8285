/**
 * The few calls of VirtualBox's web service (vboxwebsrv, SOAP) the driver makes, on
 * the virtualbox-soap package. Every VirtualBox error surfaces as a VboxError with its
 * result code; a web service that cannot be reached or refuses the logon fails at
 * connect(). Enum values are plain strings (the package's enums are type-only).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { connect as connectTcp } from 'node:net';
import { dirname, join } from 'node:path';
import type { IHost, IMachine, IMedium, IProgress, ISession, IVirtualBox, IWebsessionManager } from 'virtualbox-soap';

/** VirtualBox result codes the driver tells apart. */
export const VBOX_E_OBJECT_NOT_FOUND = 0x80bb0001;
export const VBOX_E_INVALID_OBJECT_STATE = 0x80bb0007;
export const VBOX_E_FILE_ERROR = 0x80bb0004;

/** The web service API this driver speaks: VirtualBox 7.0 (7.1 changed createMachine and more). */
export const SUPPORTED_API = '7_0';

export class VboxError extends Error {
  constructor(message: string, readonly rc?: number, readonly transport = false) {
    super(message);
  }
}

export class LogonError extends VboxError {}

export type VmState = string;

export interface HostOnlyIf { name: string; ip: string; mask: string; networkName: string }

/** Every web service operation the facade calls: the cut-down WSDL keeps these only. */
const OPERATIONS = [
  'IWebsessionManager_logon', 'IWebsessionManager_logoff', 'IWebsessionManager_getSessionObject',
  'IVirtualBox_getAPIVersion', 'IVirtualBox_getHost', 'IVirtualBox_findMachine', 'IVirtualBox_createMachine', 'IVirtualBox_registerMachine',
  'IVirtualBox_createMedium', 'IVirtualBox_openMedium', 'IVirtualBox_findDHCPServerByNetworkName', 'IVirtualBox_createDHCPServer',
  'IHost_getProcessorFeature', 'IHost_getNetworkInterfaces', 'IHost_createHostOnlyNetworkInterface', 'IHost_findHostNetworkInterfaceByName', 'IHost_removeHostOnlyNetworkInterface',
  'IHostNetworkInterface_getInterfaceType', 'IHostNetworkInterface_getName', 'IHostNetworkInterface_getIPAddress', 'IHostNetworkInterface_getNetworkMask',
  'IHostNetworkInterface_getNetworkName', 'IHostNetworkInterface_enableStaticIPConfig', 'IHostNetworkInterface_getId',
  'IDHCPServer_getIPAddress', 'IDHCPServer_getLowerIP', 'IDHCPServer_getUpperIP', 'IDHCPServer_setConfiguration', 'IDHCPServer_setEnabled',
  'IMachine_getState', 'IMachine_getId', 'IMachine_saveSettings', 'IMachine_lockMachine', 'IMachine_launchVMProcess', 'IMachine_getGuestPropertyValue',
  'IMachine_unregister', 'IMachine_deleteConfig', 'IMachine_getNetworkAdapter', 'IMachine_setMemorySize', 'IMachine_setCPUCount',
  'IMachine_addStorageController', 'IMachine_createSharedFolder', 'IMachine_attachDevice',
  'ISession_getMachine', 'ISession_unlockMachine', 'ISession_getConsole',
  'IMedium_createBaseStorage', 'IMedium_cloneTo', 'IMedium_close', 'IMedium_getLogicalSize', 'IMedium_resize', 'IMedium_deleteStorage',
  'IProgress_waitForCompletion', 'IProgress_getResultCode', 'IProgress_getErrorInfo', 'IVirtualBoxErrorInfo_getText',
  'IConsole_powerButton', 'IConsole_powerDown',
  'INetworkAdapter_setAttachmentType', 'INetworkAdapter_setAdapterType', 'INetworkAdapter_setEnabled', 'INetworkAdapter_setHostOnlyInterface', 'INetworkAdapter_getNATEngine',
  'INATEngine_addRedirect', 'INATEngine_getRedirects',
];

/** virtualbox-soap's session manager on a SOAP client of the cut-down WSDL (the whole one without a cache dir). */
async function manager(url: string, cacheDir?: string): Promise<IWebsessionManager> {
  const vb = await import('virtualbox-soap');
  // Only inside a store that exists: a driver made for checks must not create one.
  if (!cacheDir || !(await stat(dirname(cacheDir)).catch(() => null))) return vb.connect(url);
  const sdk = join(dirname(createRequire(import.meta.url).resolve('virtualbox-soap')), 'sdk-files');
  const full = await readFile(join(sdk, 'vboxweb.wsdl'), 'utf8');
  const dir = join(cacheDir, `vboxweb-${createHash('sha256').update(full).update(OPERATIONS.join()).digest('hex').slice(0, 12)}`);
  if (!(await stat(join(dir, 'vboxwebService.wsdl')).catch(() => null))) {
    const tmp = `${dir}.${process.pid}.tmp`;
    await mkdir(tmp, { recursive: true });
    await writeFile(join(tmp, 'vboxweb.wsdl'), cutWsdl(full));
    await writeFile(join(tmp, 'vboxwebService.wsdl'), await readFile(join(sdk, 'vboxwebService.wsdl')));
    await rename(tmp, dir).catch(async () => { await rm(tmp, { recursive: true, force: true }); }); // another process made it first
  }
  const soap = await import('soap');
  const client = await soap.createClientAsync(join(dir, 'vboxwebService.wsdl'), { endpoint: url });
  return new vb.IWebsessionManager((client as unknown as { vboxService: { vboxServicePort: unknown } }).vboxService.vboxServicePort as never);
}

/** The WSDL without the elements, messages and operations of calls not in OPERATIONS (types and enums stay). */
export function cutWsdl(full: string): string {
  const keep = new Set(OPERATIONS);
  // Only Interface_method names are calls; the fault elements stay.
  const wanted = (name: string) => !name.includes('_') || keep.has(name.replace(/(Response|RequestMsg|ResultMsg)$/, ''));
  return full
    .replace(/\s*<xsd:element name="([A-Za-z0-9_]+)">[\s\S]*?<\/xsd:element>/g, (m, n: string) => (wanted(n) ? m : ''))
    .replace(/\s*<wsdl:message name="([A-Za-z0-9_]+(?:RequestMsg|ResultMsg))">[\s\S]*?<\/wsdl:message>/g, (m, n: string) => (wanted(n) ? m : ''))
    .replace(/\s*<wsdl:operation name="([A-Za-z0-9_]+)">[\s\S]*?<\/wsdl:operation>/g, (m, n: string) => (wanted(n) ? m : ''));
}

function reachable(url: string): Promise<void> {
  const u = new URL(url);
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  return new Promise((resolve, reject) => {
    const s = connectTcp({ host: u.hostname.replace(/^\[|\]$/g, ''), port });
    s.setTimeout(10_000, () => { s.destroy(); reject(new VboxError(`no answer from ${u.host} within 10 s`, undefined, true)); });
    s.once('connect', () => { s.destroy(); resolve(); });
    s.once('error', (err) => reject(new VboxError(err.message, undefined, true)));
  });
}

function wrap(err: unknown): VboxError {
  if (err instanceof VboxError) return err;
  const e = err as Error & { code?: number | string; root?: unknown };
  if (typeof e.code === 'number') return new VboxError(e.message.replace(/^VirtualBox error:\s*/, '').replace(/^rc=0x[0-9a-f]+\s*/i, ''), e.code);
  if (e.root !== undefined) return new VboxError(e.message);
  return new VboxError(e?.message ?? String(err), undefined, true);
}

async function call<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw wrap(err);
  }
}

export class Vbox {
  private constructor(private readonly mgr: IWebsessionManager, private readonly vb: IVirtualBox) {}

  /**
   * Logs on; throws VboxError(transport) when nothing answers, LogonError when logon is
   * refused. `cacheDir` keeps the WSDL cut down to the calls below (parsing all of it
   * costs a second of CPU on every command).
   */
  static async connect(url: string, user: string, password: string, cacheDir?: string): Promise<Vbox> {
    // A service that is not there fails before any WSDL is parsed.
    await reachable(url);
    const mgr = await call(manager(url, cacheDir));
    const vb = await mgr.logon(user, password).catch((err) => {
      const e = wrap(err);
      throw e.transport ? e : new LogonError(e.message, e.rc);
    });
    if (!vb) throw new LogonError('logon refused');
    return new Vbox(mgr, vb);
  }

  async close(): Promise<void> {
    await this.mgr.logoff(this.vb).catch(() => undefined);
  }

  apiVersion(): Promise<string> { return call(this.vb.getAPIVersion()); }

  async hardwareVirtualization(): Promise<boolean> {
    return call((await this.host()).getProcessorFeature('HWVirtEx' as never));
  }

  async findMachine(nameOrId: string): Promise<IMachine | null> {
    try {
      return await call(this.vb.findMachine(nameOrId));
    } catch (err) {
      if ((err as VboxError).rc === VBOX_E_OBJECT_NOT_FOUND) return null;
      throw err;
    }
  }

  async state(m: IMachine): Promise<VmState> { return call(m.getState()); }
  async machineId(m: IMachine): Promise<string> { return call(m.getId()); }

  /** A new machine, configured by `setup` before it is registered; returns its UUID. */
  async createMachine(name: string, osType: string, setup: (m: IMachine) => Promise<void>): Promise<string> {
    const m = await call(this.vb.createMachine('', name, ['/'], osType, '', '', '', ''));
    await setup(m);
    await call(m.saveSettings());
    await call(this.vb.registerMachine(m));
    return call(m.getId());
  }

  /** Runs fn on the machine's mutable copy under a write lock, saving what it changed. */
  async withWriteLock<T>(id: string, fn: (m: IMachine) => Promise<T>): Promise<T> {
    const m = await this.mustFind(id);
    const s = await this.session();
    await call(m.lockMachine(s, 'Write' as never));
    try {
      const mutable = await call(s.getMachine());
      const out = await fn(mutable);
      await call(mutable.saveSettings());
      return out;
    } finally {
      await s.unlockMachine().catch(() => undefined);
    }
  }

  async createDisk(location: string, sizeBytes: number): Promise<IMedium> {
    const d = await call(this.vb.createMedium('VDI', location, 'ReadWrite' as never, 'HardDisk' as never));
    await this.wait(await call(d.createBaseStorage(sizeBytes, ['Standard' as never])));
    return d;
  }

  /** A copy of the image at `location`, grown to at least sizeBytes. */
  async cloneDisk(image: string, location: string, sizeBytes: number): Promise<IMedium> {
    const src = await call(this.vb.openMedium(image, 'HardDisk' as never, 'ReadOnly' as never, false));
    const d = await call(this.vb.createMedium('VDI', location, 'ReadWrite' as never, 'HardDisk' as never));
    try {
      await this.wait(await call(src.cloneTo(d, ['Standard' as never], null as never)));
    } finally {
      // Another machine may be cloning it too: then it stays open, which is harmless.
      await src.close().catch(() => undefined);
    }
    if ((await call(d.getLogicalSize())) < sizeBytes) await this.wait(await call(d.resize(sizeBytes)));
    return d;
  }

  openDisk(location: string): Promise<IMedium> { return call(this.vb.openMedium(location, 'HardDisk' as never, 'ReadWrite' as never, false)); }
  openDvd(location: string): Promise<IMedium> { return call(this.vb.openMedium(location, 'DVD' as never, 'ReadOnly' as never, false)); }

  /** Deletes a disk's file and forgets it (it must be attached to nothing). */
  async deleteMedium(location: string, type: 'HardDisk' | 'DVD'): Promise<void> {
    const m = await this.vb.openMedium(location, type as never, 'ReadWrite' as never, false).catch(() => null);
    if (!m) return;
    if (type === 'DVD') await call(m.close());
    else await this.wait(await call(m.deleteStorage()));
  }

  async launch(id: string, uiType: string): Promise<void> {
    const m = await this.mustFind(id);
    const s = await this.session();
    try {
      await this.wait(await call(m.launchVMProcess(s, uiType, [])));
    } finally {
      await s.unlockMachine().catch(() => undefined);
    }
  }

  /** Runs fn on the running machine's console under a shared lock. */
  async withConsole<T>(id: string, fn: (c: Awaited<ReturnType<ISession['getConsole']>>) => Promise<T>): Promise<T> {
    const m = await this.mustFind(id);
    const s = await this.session();
    await call(m.lockMachine(s, 'Shared' as never));
    try {
      return await fn(await call(s.getConsole()));
    } finally {
      await s.unlockMachine().catch(() => undefined);
    }
  }

  async powerButton(id: string): Promise<void> { await this.withConsole(id, (c) => call(c.powerButton())); }
  async powerDown(id: string): Promise<void> { await this.withConsole(id, async (c) => this.wait(await call(c.powerDown()))); }

  /** The host port of the machine's NAT rule `rule` on NIC 1 (0 = none). */
  async natHostPort(id: string, rule: string): Promise<number> {
    const m = await this.mustFind(id);
    const rules = (await call((await call((await call(m.getNetworkAdapter(0))).getNATEngine())).getRedirects())) ?? [];
    // Each rule reads "name,protocol,hostIP,hostPort,guestIP,guestPort".
    const r = rules.map((x) => x.split(',')).find((x) => x[0] === rule);
    return r ? Number(r[3]) : 0;
  }

  async guestProperty(id: string, name: string): Promise<string> {
    const m = await this.mustFind(id);
    return call(m.getGuestPropertyValue(name));
  }

  /** Unregisters the machine and deletes its settings and the disks attached to it. */
  async deleteMachine(id: string): Promise<void> {
    const m = await this.findMachine(id);
    if (!m) return;
    const media = await call(m.unregister('DetachAllReturnHardDisksOnly' as never));
    await this.wait(await call(m.deleteConfig(media ?? [])));
  }

  /** Host-only interfaces of the host, with their addresses. */
  async hostOnlyInterfaces(): Promise<HostOnlyIf[]> {
    const host = await this.host();
    const all = (await call(host.getNetworkInterfaces())) ?? [];
    const out: HostOnlyIf[] = [];
    for (const i of all) {
      if ((await call(i.getInterfaceType())) !== 'HostOnly') continue;
      out.push({ name: await call(i.getName()), ip: await call(i.getIPAddress()), mask: await call(i.getNetworkMask()), networkName: await call(i.getNetworkName()) });
    }
    return out;
  }

  async createHostOnlyInterface(ip: string, mask: string): Promise<HostOnlyIf> {
    const host = await this.host();
    const r = await call(host.createHostOnlyNetworkInterface());
    await this.wait(r.returnval);
    await call(r.hostInterface.enableStaticIPConfig(ip, mask));
    return { name: await call(r.hostInterface.getName()), ip, mask, networkName: await call(r.hostInterface.getNetworkName()) };
  }

  async removeHostOnlyInterface(name: string): Promise<void> {
    const host = await this.host();
    const i = await call(host.findHostNetworkInterfaceByName(name));
    await this.wait(await call(host.removeHostOnlyNetworkInterface(await call(i.getId()))));
  }

  /** The DHCP server of a host-only network, made or set to serve [lower, upper]. */
  async ensureDhcp(networkName: string, serverIp: string, mask: string, lower: string, upper: string): Promise<void> {
    let d = await this.vb.findDHCPServerByNetworkName(networkName).catch(() => null);
    if (!d) d = await call(this.vb.createDHCPServer(networkName));
    if ((await call(d.getIPAddress())) !== serverIp || (await call(d.getLowerIP())) !== lower || (await call(d.getUpperIP())) !== upper) {
      await call(d.setConfiguration(serverIp, mask, lower, upper));
    }
    await call(d.setEnabled(true));
  }

  private async host(): Promise<IHost> { return call(this.vb.getHost()); }
  private async session(): Promise<ISession> { return call(this.mgr.getSessionObject(this.vb)); }

  private async mustFind(id: string): Promise<IMachine> {
    const m = await this.findMachine(id);
    if (!m) throw new VboxError(`no machine ${id} is registered`, VBOX_E_OBJECT_NOT_FOUND);
    return m;
  }

  /** Waits for a VirtualBox operation and turns its failure into a VboxError. */
  private async wait(p: IProgress): Promise<void> {
    await call(p.waitForCompletion(-1));
    const rc = await call(p.getResultCode());
    if (rc !== 0) {
      const info = await p.getErrorInfo().catch(() => null);
      const text = info ? await info.getText().catch(() => '') : '';
      throw new VboxError(text || `operation failed (rc=0x${(rc >>> 0).toString(16)})`, rc >>> 0);
    }
  }
}
