import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, MachineError, ProvisionError, TimeoutError, reason } from '../../src/machine/errors.js';
import type { DriverSettings } from '../../src/machine/store/host.js';
import type { Connection, Driver, DriverFactory, FlagValues, MachineState } from '../driver.js';
import type { Ec2Api, Instance, IpPermission } from './api.js';
import { lazySdkEc2Api } from './lazy-api.js';
import { amazonec2Info } from './info.js';
import { parsePort, parseTags, settingsFromFlags, type Ec2Settings } from './flags.js';

export const TAG_MACHINE = 'berth-machine';
export const TAG_MACHINE_ID = 'berth-machine-id';
const CANONICAL = '099720109477';
/** Canonical's public SSM parameters, newest LTS first. */
const UBUNTU_SSM = ['24.04', '22.04'].map((v) => `/aws/service/canonical/ubuntu/server/${v}/stable/current/amd64/hvm/ebs-gp3/ami-id`);
const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];

export function machineState(ec2State: string | undefined): MachineState {
  switch (ec2State) {
    case 'pending': return 'Starting';
    case 'running': return 'Running';
    case 'stopping': return 'Stopping';
    case 'stopped': return 'Stopped';
    default: return 'Error'; // shutting-down, terminated, or no instance at all
  }
}

/** How long a waiter waits for an instance: 5 minutes, or BERTH_EC2_WAIT_TIMEOUT seconds. */
function waitTimeoutMs(): number {
  const s = Number(process.env.BERTH_EC2_WAIT_TIMEOUT);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 300_000;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * An EC2 instance made for the machine, then provisioned over SSH like a generic
 * host. Everything it makes is tagged with the machine's store-unique id, so a
 * create that was killed is found again (by a re-run, or by rm) rather than leaked.
 */
export class AmazonEc2Driver implements Driver {
  readonly name = 'amazonec2';
  private apiInstance?: Ec2Api;

  constructor(readonly settings: Ec2Settings, private readonly makeApi: (s: Ec2Settings) => Ec2Api = lazySdkEc2Api) {}

  private get api(): Ec2Api {
    return (this.apiInstance ??= this.makeApi(this.settings));
  }

  /** The key pair this machine imports (Docker Machine names it after the machine). */
  ownKeyName(): string {
    return `berth-${this.settings.MachineName}-${this.settings.MachineId.slice(0, 8)}`;
  }

  private get zoneName(): string { return `${this.settings.Region}${this.settings.Zone}`; }

  private tags(): [string, string][] {
    const s = this.settings;
    return [['Name', s.MachineName], [TAG_MACHINE, s.MachineName], [TAG_MACHINE_ID, s.MachineId], ...parseTags(s.Tags)];
  }

  async preCreateCheck(): Promise<void> {
    const s = this.settings;
    if (s.UserDataFile) await readFile(s.UserDataFile).catch((err) => { throw new InvalidArgumentError(`--amazonec2-userdata ${s.UserDataFile} cannot be read: ${reason(err)}`); });
    // The first call also proves the credentials and the endpoint.
    const regions = await this.api.describeRegions().catch(async (err: MachineError) => {
      if (err.code === 'invalid_argument' || s.Region === 'us-east-1') throw err;
      // A region that does not exist has no endpoint: ask a region that does which ones exist.
      const known = await this.api.describeRegions('us-east-1').catch(() => { throw err; });
      if (known.includes(s.Region)) throw err;
      return known;
    });
    if (!regions.includes(s.Region)) {
      throw new InvalidArgumentError(`region "${s.Region}" does not exist`, { hint: `pick one of: ${regions.sort().join(', ')}` });
    }
    s.AMI = s.AMI ? await this.checkAmi(s.AMI) : await this.findUbuntuAmi();
    await this.pickNetwork();
    if (s.KeyName && !(await this.api.describeKeyPairs([s.KeyName])).length) {
      throw new InvalidArgumentError(`key pair "${s.KeyName}" does not exist in ${s.Region}`, { hint: 'import it first, or leave out --amazonec2-keypair-name to let berth make one' });
    }
  }

  private async checkAmi(ami: string): Promise<string> {
    const found = await this.api.describeImages({ ImageIds: [ami] }).catch((err: MachineError) => {
      if (/InvalidAMIID/.test(err.message)) return [];
      throw err;
    });
    if (!found.length) throw new InvalidArgumentError(`AMI "${ami}" does not exist in ${this.settings.Region}`, { hint: 'AMI ids differ per region: look the id up for this region, or leave out --amazonec2-ami for Ubuntu LTS' });
    return ami;
  }

  /** The region's current Ubuntu LTS: Canonical's SSM parameter, else the newest image Canonical owns. */
  private async findUbuntuAmi(): Promise<string> {
    for (const p of UBUNTU_SSM) {
      const v = await this.api.getParameter(p).catch(() => undefined);
      if (v) return v;
    }
    const images = await this.api.describeImages({
      Owners: [CANONICAL],
      Filters: [{ Name: 'name', Values: ['ubuntu/images/*/ubuntu-*-amd64-server-*'] }, { Name: 'state', Values: ['available'] }],
    });
    // Canonical's names carry the release and the build date: "…/ubuntu-jammy-22.04-amd64-server-20240223".
    const rank = (name = '') => `${/-(\d\d\.\d\d)-/.exec(name)?.[1] ?? '00.00'}-${/-(\d{8}(?:\.\d+)?)$/.exec(name)?.[1] ?? ''}`;
    const lts = images.filter((i) => i.ImageId && /-\d[02468]\.04-/.test(i.Name ?? ''));
    const newest = lts.sort((a, b) => rank(b.Name).localeCompare(rank(a.Name)))[0];
    if (!newest) {
      throw new InvalidArgumentError(`no Ubuntu image found in ${this.settings.Region}: neither Canonical's SSM parameter nor an image search answered`, { hint: 'pass --amazonec2-ami with an AMI id of this region' });
    }
    return newest.ImageId!;
  }

  private async pickNetwork(): Promise<void> {
    const s = this.settings;
    if (s.SubnetId) {
      const [subnet] = await this.api.describeSubnets([], [s.SubnetId]).catch((err: MachineError) => {
        if (/InvalidSubnetID/.test(err.message)) return [];
        throw err;
      });
      if (!subnet) throw new InvalidArgumentError(`subnet "${s.SubnetId}" does not exist in ${s.Region}`);
      if (s.VpcId && subnet.VpcId !== s.VpcId) throw new InvalidArgumentError(`subnet ${s.SubnetId} belongs to ${subnet.VpcId}, not to --amazonec2-vpc-id ${s.VpcId}`);
      if (subnet.AvailabilityZone !== this.zoneName) {
        throw new InvalidArgumentError(`subnet ${s.SubnetId} is in zone ${subnet.AvailabilityZone}, not ${this.zoneName}`, { hint: `pass --amazonec2-zone ${subnet.AvailabilityZone?.slice(-1)}, or a subnet of ${this.zoneName}` });
      }
      s.VpcId = subnet.VpcId!;
      return;
    }
    if (!s.VpcId) {
      const [vpc] = await this.api.describeVpcs([{ Name: 'is-default', Values: ['true'] }]);
      if (!vpc) throw new InvalidArgumentError(`the account has no default VPC in ${s.Region}`, { hint: 'pass --amazonec2-vpc-id and --amazonec2-subnet-id' });
      s.VpcId = vpc.VpcId!;
    }
    const subnets = await this.api.describeSubnets([{ Name: 'vpc-id', Values: [s.VpcId] }, { Name: 'availability-zone', Values: [this.zoneName] }]);
    const subnet = subnets.find((x) => x.DefaultForAz) ?? subnets[0];
    if (!subnet) throw new InvalidArgumentError(`VPC ${s.VpcId} has no subnet in zone ${this.zoneName}`, { hint: 'pass --amazonec2-subnet-id, or another --amazonec2-zone' });
    s.SubnetId = subnet.SubnetId!;
  }

  async create(): Promise<void> {
    const s = this.settings;
    await this.ensureSecurityGroup();
    await this.ensureKeyPair();
    // A create that was killed after RunInstances left a tagged instance: take it over.
    const existing = (await this.taggedInstances())[0];
    s.InstanceId = existing?.InstanceId ?? (await this.launch());
    const inst = await this.waitFor('running');
    s.PrivateIPAddress = inst.PrivateIpAddress ?? '';
    s.IPAddress = this.addressOf(inst);
    if (!s.IPAddress) {
      throw new ProvisionError(`instance ${s.InstanceId} has no ${s.UsePrivateIP ? 'private' : 'public'} address`, { hint: s.UsePrivateIP ? undefined : 'use a subnet that gives public addresses, or --amazonec2-use-private-address' });
    }
  }

  private async ensureSecurityGroup(): Promise<void> {
    const s = this.settings;
    const filters = [{ Name: 'group-name', Values: [s.SecurityGroupName] }, { Name: 'vpc-id', Values: [s.VpcId] }];
    let group = (await this.api.describeSecurityGroups(filters))[0];
    if (!group) {
      if (s.SecurityGroupReadOnly) throw new InvalidArgumentError(`security group "${s.SecurityGroupName}" does not exist in ${s.VpcId} and --amazonec2-security-group-readonly forbids making it`);
      const made = await this.api.createSecurityGroup(s.SecurityGroupName, 'berth machines (Docker Machine compatible)', s.VpcId, [[TAG_MACHINE_ID, s.MachineId]]).catch((err: MachineError) => {
        if (!/InvalidGroup\.Duplicate/.test(err.message)) throw err;
        return undefined; // a create running beside this one made it first
      });
      s.SecurityGroupCreated = made !== undefined;
      group = made ? { GroupId: made, IpPermissions: [] } : (await this.api.describeSecurityGroups(filters))[0];
      if (!group) throw new ProvisionError(`security group "${s.SecurityGroupName}" was made by another create and is gone again`, { hint: 'run the create again' });
    }
    s.SecurityGroupId = group.GroupId!;
    if (s.SecurityGroupReadOnly) return;
    const wanted = [{ port: 22, protocol: 'tcp' }, { port: s.EnginePort, protocol: 'tcp' }, ...s.OpenPorts.map(parsePort)];
    const open = (port: number, protocol: string) => (group.IpPermissions ?? []).some((p) => p.IpProtocol === protocol && p.FromPort === port && p.ToPort === port);
    const missing: IpPermission[] = wanted
      .filter((w, i) => !open(w.port, w.protocol) && wanted.findIndex((x) => x.port === w.port && x.protocol === w.protocol) === i)
      .map((w) => ({ IpProtocol: w.protocol, FromPort: w.port, ToPort: w.port, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }));
    if (missing.length) {
      await this.api.authorizeIngress(s.SecurityGroupId, missing).catch((err: MachineError) => {
        if (!/InvalidPermission\.Duplicate/.test(err.message)) throw err; // another create opened them meanwhile
      });
    }
  }

  private async ensureKeyPair(): Promise<void> {
    const s = this.settings;
    if (s.KeyName && !s.KeyPairImported) return; // the user's own key pair
    s.KeyName = this.ownKeyName();
    if ((await this.api.describeKeyPairs([s.KeyName])).length) {
      s.KeyPairImported = true;
      return;
    }
    const pub = await readFile(`${s.SSHKeyPath}.pub`, 'utf8').catch((err) => {
      throw new InvalidArgumentError(`the public key ${s.SSHKeyPath}.pub cannot be read: ${reason(err)}`);
    });
    await this.api.importKeyPair(s.KeyName, pub.trim(), [[TAG_MACHINE_ID, s.MachineId]]);
    s.KeyPairImported = true;
  }

  private async launch(): Promise<string> {
    const s = this.settings;
    const tags = this.tags().map(([Key, Value]) => ({ Key, Value }));
    const userData = s.UserDataFile ? (await readFile(s.UserDataFile)).toString('base64') : undefined;
    const spec = {
      ImageId: s.AMI,
      InstanceType: s.InstanceType as never,
      KeyName: s.KeyName,
      UserData: userData,
      Monitoring: { Enabled: s.Monitoring },
      BlockDeviceMappings: [{ DeviceName: s.DeviceName, Ebs: { VolumeSize: s.RootSize, VolumeType: s.VolumeType as never, DeleteOnTermination: true } }],
      IamInstanceProfile: s.IamInstanceProfile ? { Name: s.IamInstanceProfile } : undefined,
      Placement: { AvailabilityZone: this.zoneName },
      NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: s.SubnetId, Groups: [s.SecurityGroupId], AssociatePublicIpAddress: !s.PrivateIPOnly, DeleteOnTermination: true }],
    };
    // One token per launch: the SDK's own retries of this call cannot make a second instance.
    const token = `${s.MachineId}-${Date.now().toString(36)}`;
    if (!s.RequestSpotInstance) {
      const inst = await this.api.runInstance({
        ...spec, MinCount: 1, MaxCount: 1, ClientToken: token,
        TagSpecifications: [{ ResourceType: 'instance', Tags: tags }],
      });
      return inst.InstanceId!;
    }
    const { Monitoring, Placement, ...launchSpec } = spec;
    s.SpotInstanceRequestId = await this.api.requestSpotInstance({
      SpotPrice: s.SpotPrice, InstanceCount: 1, ClientToken: token,
      LaunchSpecification: { ...launchSpec, Monitoring: { Enabled: Monitoring.Enabled }, Placement: { AvailabilityZone: Placement.AvailabilityZone } },
      TagSpecifications: [{ ResourceType: 'spot-instances-request', Tags: tags }],
    });
    const id = await this.waitSpot(s.SpotInstanceRequestId);
    await this.api.describeInstances([], [id]); // visible before it is waited on
    return id;
  }

  private async waitSpot(requestId: string): Promise<string> {
    const deadline = Date.now() + waitTimeoutMs();
    let status = 'unknown';
    for (let delay = 250; Date.now() < deadline; delay = Math.min(delay * 2, 5000)) {
      const [r] = await this.api.describeSpotRequests([requestId]);
      status = r?.Status?.Code ?? r?.State ?? 'unknown';
      if (r?.InstanceId) return r.InstanceId;
      if (r && ['cancelled', 'failed', 'closed'].includes(r.State ?? '')) throw new ProvisionError(`spot request ${requestId} ended ${r.State}: ${r.Status?.Message ?? status}`, { hint: 'raise --amazonec2-spot-price, or try another zone or instance type' });
      await sleep(delay);
    }
    throw new TimeoutError(`spot request ${requestId} was not fulfilled within ${waitTimeoutMs() / 1000} s (status: ${status})`, { hint: 'raise --amazonec2-spot-price, or try another zone or instance type' });
  }

  /** Waits until the instance is in `target`; names the instance and where it got stuck otherwise. */
  private async waitFor(target: 'running' | 'stopped'): Promise<Instance> {
    const id = this.settings.InstanceId;
    const timeout = waitTimeoutMs();
    const deadline = Date.now() + timeout;
    let last = 'unknown';
    for (let delay = 100; ; delay = Math.min(delay * 2, 3000)) {
      const [inst] = await this.api.describeInstances([], [id]).catch((err: MachineError) => {
        if (/InvalidInstanceID\.NotFound/.test(err.message)) return []; // not visible yet: EC2 is eventually consistent
        throw err;
      });
      last = inst?.State?.Name ?? 'not visible yet';
      if (last === target) return inst!;
      if (last === 'terminated' || last === 'shutting-down') {
        throw new ProvisionError(`instance ${id} went to ${last} while berth waited for ${target}: ${inst?.StateReason?.Message ?? 'no reason given'}`);
      }
      if (Date.now() + delay > deadline) break;
      await sleep(delay);
    }
    throw new TimeoutError(`instance ${id} did not reach "${target}" within ${Math.round(timeout / 1000)} s: it stayed "${last}"`, { hint: 'look at it in the EC2 console; BERTH_EC2_WAIT_TIMEOUT=SECONDS waits longer' });
  }

  private addressOf(inst: Instance): string {
    return (this.settings.UsePrivateIP ? inst.PrivateIpAddress : inst.PublicIpAddress) ?? '';
  }

  /** The machine's live instances, found by its id tag. */
  private async taggedInstances(): Promise<Instance[]> {
    return this.api.describeInstances([
      { Name: `tag:${TAG_MACHINE_ID}`, Values: [this.settings.MachineId] },
      { Name: 'instance-state-name', Values: LIVE_STATES },
    ]);
  }

  private async instance(): Promise<Instance | undefined> {
    const s = this.settings;
    if (!s.InstanceId) {
      const found = (await this.taggedInstances())[0];
      if (!found) return undefined;
      s.InstanceId = found.InstanceId!;
    }
    const [inst] = await this.api.describeInstances([], [s.InstanceId]).catch((err: MachineError) => {
      if (/InvalidInstanceID\.NotFound/.test(err.message)) return [];
      throw err;
    });
    return inst;
  }

  private async needInstance(): Promise<string> {
    const inst = await this.instance();
    if (!inst || ['terminated', 'shutting-down'].includes(inst.State?.Name ?? '')) {
      throw new ProvisionError(`machine "${this.settings.MachineName}" has no EC2 instance (${inst ? `${inst.InstanceId} is ${inst.State?.Name}` : 'none found'})`, { hint: `remove it with \`berth machine rm ${this.settings.MachineName}\`` });
    }
    return inst.InstanceId!;
  }

  async start(): Promise<void> {
    await this.api.startInstance(await this.needInstance());
    // A stopped instance gets a new public address when it starts again: ip() reports
    // it, and the machine layer reissues the server certificate for it.
    await this.waitFor('running');
  }
  async stop(): Promise<void> { await this.api.stopInstance(await this.needInstance(), false); }
  async kill(): Promise<void> { await this.api.stopInstance(await this.needInstance(), true); }
  async restart(): Promise<void> { await this.api.rebootInstance(await this.needInstance()); }

  /**
   * Terminates the instance (and any other instance tagged for this machine), cancels
   * the spot request and deletes the key pair berth imported. The security group is
   * kept, as Docker Machine does, unless this is a failed create that made it.
   */
  async remove(opts: { createFailed?: boolean } = {}): Promise<void> {
    const s = this.settings;
    const ids = new Set((await this.taggedInstances()).map((i) => i.InstanceId!));
    if (s.InstanceId) ids.add(s.InstanceId);
    if (s.SpotInstanceRequestId) await this.api.cancelSpotRequests([s.SpotInstanceRequestId]).catch(ignoreNotFound);
    if (ids.size) await this.api.terminateInstances([...ids]).catch(ignoreNotFound);
    if (s.KeyPairImported || !s.KeyName || s.KeyName === this.ownKeyName()) await this.api.deleteKeyPair(this.ownKeyName()).catch(ignoreNotFound);
    if (opts.createFailed) await this.removeOwnGroup([...ids]);
  }

  private async removeOwnGroup(instanceIds: string[]): Promise<void> {
    const groups = await this.api.describeSecurityGroups([{ Name: `tag:${TAG_MACHINE_ID}`, Values: [this.settings.MachineId] }]);
    if (!groups.length) return;
    // A group is deletable once no instance uses it: wait for the termination.
    const deadline = Date.now() + waitTimeoutMs();
    for (let delay = 100; instanceIds.length; delay = Math.min(delay * 2, 5000)) {
      const live = await this.api.describeInstances([{ Name: 'instance-state-name', Values: [...LIVE_STATES, 'shutting-down'] }], instanceIds).catch(() => []);
      if (!live.length || Date.now() > deadline) break;
      await sleep(delay);
    }
    for (const g of groups) await this.api.deleteSecurityGroup(g.GroupId!).catch(ignoreNotFound);
  }

  async state(): Promise<MachineState> {
    return machineState((await this.instance())?.State?.Name);
  }

  /** The instance's current address while it runs (it may differ from the stored one), else the stored one. */
  async ip(): Promise<string> {
    const s = this.settings;
    if (!s.InstanceId) return s.IPAddress;
    const inst = await this.instance().catch(() => undefined);
    return (inst?.State?.Name === 'running' ? this.addressOf(inst) : '') || s.IPAddress;
  }

  connection(): Connection {
    const s = this.settings;
    return { kind: 'ssh', host: s.IPAddress, port: s.SSHPort, user: s.SSHUser, keyPath: s.SSHKeyPath };
  }
  installPrefix(): string { return ''; }
  enginePort(): number { return this.settings.EnginePort; }
}

function ignoreNotFound(err: unknown): void {
  if (err instanceof MachineError && /NotFound|does not exist/i.test(err.message)) return;
  throw err;
}

export function amazonec2Factory(makeApi?: (s: Ec2Settings) => Ec2Api): DriverFactory {
  return {
    ...amazonec2Info,
    fromFlags: (base: DriverSettings, flags: FlagValues) => new AmazonEc2Driver(settingsFromFlags(base, flags), makeApi),
    fromSettings: (s: DriverSettings) => new AmazonEc2Driver(s as Ec2Settings, makeApi),
  };
}

export const amazonec2Driver: DriverFactory = amazonec2Factory();
