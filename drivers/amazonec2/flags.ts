import { randomUUID } from 'node:crypto';
import { InvalidArgumentError } from '../../src/machine/errors.js';
import type { DriverSettings } from '../../src/machine/store/host.js';
import type { DriverFlag, FlagValues } from '../driver.js';

/** Docker Machine's amazonec2 flags, environment variables and defaults. */
export const EC2_FLAGS: DriverFlag[] = [
  { name: 'amazonec2-access-key', type: 'string', usage: 'AWS access key (default: the SDK credential chain: env, ~/.aws, instance role)', envVar: 'AWS_ACCESS_KEY_ID' },
  { name: 'amazonec2-secret-key', type: 'string', usage: 'AWS secret key', envVar: 'AWS_SECRET_ACCESS_KEY' },
  { name: 'amazonec2-session-token', type: 'string', usage: 'AWS session token', envVar: 'AWS_SESSION_TOKEN' },
  { name: 'amazonec2-region', type: 'string', usage: 'AWS region', envVar: 'AWS_DEFAULT_REGION', default: 'us-east-1' },
  { name: 'amazonec2-zone', type: 'string', usage: 'availability zone letter within the region', envVar: 'AWS_ZONE', default: 'a' },
  { name: 'amazonec2-instance-type', type: 'string', usage: 'instance type', envVar: 'AWS_INSTANCE_TYPE', default: 't2.micro' },
  { name: 'amazonec2-ami', type: 'string', usage: "AMI id (default: the region's current Ubuntu LTS)", envVar: 'AWS_AMI' },
  { name: 'amazonec2-device-name', type: 'string', usage: 'root device name of the AMI', envVar: 'AWS_DEVICE_NAME', default: '/dev/sda1' },
  { name: 'amazonec2-root-size', type: 'int', usage: 'root disk size in GB', envVar: 'AWS_ROOT_SIZE', default: 16 },
  { name: 'amazonec2-volume-type', type: 'string', usage: 'root volume type (gp2, gp3, io1, standard)', envVar: 'AWS_VOLUME_TYPE', default: 'gp2' },
  { name: 'amazonec2-vpc-id', type: 'string', usage: "VPC id (default: the region's default VPC)", envVar: 'AWS_VPC_ID' },
  { name: 'amazonec2-subnet-id', type: 'string', usage: "subnet id (default: the zone's default subnet)", envVar: 'AWS_SUBNET_ID' },
  { name: 'amazonec2-security-group', type: 'string', usage: 'security group name: found or created', envVar: 'AWS_SECURITY_GROUP', default: 'docker-machine' },
  { name: 'amazonec2-security-group-readonly', type: 'bool', usage: 'leave the security group as it is (no rules added)', envVar: 'AWS_SECURITY_GROUP_READONLY', default: false },
  { name: 'amazonec2-open-port', type: 'stringList', usage: 'extra port to open in the group, PORT or PORT/udp (repeatable)', envVar: 'AWS_OPEN_PORT' },
  { name: 'amazonec2-keypair-name', type: 'string', usage: 'existing key pair to launch with (needs --amazonec2-ssh-keypath)', envVar: 'AWS_KEYPAIR_NAME' },
  { name: 'amazonec2-ssh-keypath', type: 'string', usage: 'private key of that key pair', envVar: 'AWS_SSH_KEYPATH' },
  { name: 'amazonec2-ssh-user', type: 'string', usage: 'SSH user of the AMI', envVar: 'AWS_SSH_USER', default: 'ubuntu' },
  { name: 'amazonec2-iam-instance-profile', type: 'string', usage: 'IAM instance profile name', envVar: 'AWS_INSTANCE_PROFILE' },
  { name: 'amazonec2-userdata', type: 'string', usage: 'file with user data for the instance', envVar: 'AWS_USERDATA' },
  { name: 'amazonec2-tags', type: 'string', usage: 'extra tags as k1,v1,k2,v2 (Name is always set)', envVar: 'AWS_TAGS' },
  { name: 'amazonec2-private-address-only', type: 'bool', usage: 'no public address: reach the instance on its private one', envVar: 'AWS_PRIVATE_ADDRESS_ONLY', default: false },
  { name: 'amazonec2-use-private-address', type: 'bool', usage: 'reach the instance on its private address', envVar: 'AWS_USE_PRIVATE_IP', default: false },
  { name: 'amazonec2-request-spot-instance', type: 'bool', usage: 'use a spot instance', envVar: 'AWS_REQUEST_SPOT_INSTANCE', default: false },
  { name: 'amazonec2-spot-price', type: 'string', usage: 'highest spot price in USD per hour', envVar: 'AWS_SPOT_PRICE', default: '0.50' },
  { name: 'amazonec2-monitoring', type: 'bool', usage: 'detailed CloudWatch monitoring', envVar: 'AWS_MONITORING', default: false },
  { name: 'amazonec2-endpoint', type: 'string', usage: 'EC2 API endpoint URL, for EC2-compatible clouds', envVar: 'AWS_ENDPOINT' },
  { name: 'amazonec2-retries', type: 'int', usage: 'attempts per API call', envVar: 'AWS_RETRIES', default: 5 },
  { name: 'amazonec2-engine-port', type: 'int', usage: 'engine port', envVar: 'AWS_ENGINE_PORT', default: 2376 },
];

/** What the driver keeps in config.json's "Driver" (Docker Machine's field names where it has them). */
export interface Ec2Settings extends DriverSettings {
  /** Store-unique id of this machine: tags its instance so a re-run finds it. */
  MachineId: string;
  AccessKey: string;
  SecretKey: string;
  SessionToken: string;
  Region: string;
  Zone: string;
  InstanceType: string;
  AMI: string;
  DeviceName: string;
  RootSize: number;
  VolumeType: string;
  VpcId: string;
  SubnetId: string;
  SecurityGroupName: string;
  SecurityGroupId: string;
  SecurityGroupReadOnly: boolean;
  /** Set when this machine's create made the group, so a failed create removes it. */
  SecurityGroupCreated: boolean;
  OpenPorts: string[];
  KeyName: string;
  /** True when the key pair was imported for this machine (rm deletes it). */
  KeyPairImported: boolean;
  IamInstanceProfile: string;
  UserDataFile: string;
  Tags: string;
  PrivateIPOnly: boolean;
  UsePrivateIP: boolean;
  RequestSpotInstance: boolean;
  SpotPrice: string;
  SpotInstanceRequestId: string;
  Monitoring: boolean;
  Endpoint: string;
  RetryCount: number;
  InstanceId: string;
  PrivateIPAddress: string;
}

const str = (v: unknown, d = '') => (v === undefined || v === null ? d : String(v));

function positiveInt(flags: FlagValues, name: string, d: number, max: number): number {
  const v = flags[name] === undefined ? d : Number(flags[name]);
  if (!Number.isInteger(v) || v < 1 || v > max) throw new InvalidArgumentError(`--${name} ${flags[name]} must be a whole number from 1 to ${max}`);
  return v;
}

export function parseTags(s: string): [string, string][] {
  if (!s) return [];
  const parts = s.split(',');
  if (parts.length % 2 !== 0) throw new InvalidArgumentError(`--amazonec2-tags "${s}" must be key,value pairs`, { hint: '--amazonec2-tags team,web,env,prod' });
  const out: [string, string][] = [];
  for (let i = 0; i < parts.length; i += 2) out.push([parts[i], parts[i + 1]]);
  return out;
}

export function parsePort(p: string): { port: number; protocol: 'tcp' | 'udp' } {
  const m = /^(\d{1,5})(?:\/(tcp|udp))?$/.exec(p);
  const port = m ? Number(m[1]) : NaN;
  if (!m || port < 1 || port > 65535) throw new InvalidArgumentError(`--amazonec2-open-port "${p}" is not PORT or PORT/tcp or PORT/udp`);
  return { port, protocol: (m[2] ?? 'tcp') as 'tcp' | 'udp' };
}

export function settingsFromFlags(base: DriverSettings, flags: FlagValues): Ec2Settings {
  const region = str(flags['amazonec2-region'], 'us-east-1');
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw new InvalidArgumentError(`--amazonec2-region "${region}" is not a region name`, { hint: 'for example --amazonec2-region eu-west-1' });
  const zone = str(flags['amazonec2-zone'], 'a');
  if (!/^[a-z]$/.test(zone)) throw new InvalidArgumentError(`--amazonec2-zone "${zone}" must be the zone's letter`, { hint: 'for example --amazonec2-zone b (for us-east-1b)' });
  const keyName = str(flags['amazonec2-keypair-name']);
  const keyPath = str(flags['amazonec2-ssh-keypath']);
  if (keyName && !keyPath) throw new InvalidArgumentError('--amazonec2-keypair-name needs --amazonec2-ssh-keypath (the private key of that key pair)');
  const access = str(flags['amazonec2-access-key']);
  const secret = str(flags['amazonec2-secret-key']);
  if (Boolean(access) !== Boolean(secret)) throw new InvalidArgumentError('--amazonec2-access-key and --amazonec2-secret-key go together', { hint: 'give both, or neither to use the SDK credential chain (AWS_PROFILE, ~/.aws/credentials, instance role)' });
  const endpoint = str(flags['amazonec2-endpoint']);
  if (endpoint && !/^https?:\/\/[^\s/]+/.test(endpoint)) throw new InvalidArgumentError(`--amazonec2-endpoint "${endpoint}" is not an http(s) URL`);
  const spotPrice = str(flags['amazonec2-spot-price'], '0.50');
  if (!/^\d+(\.\d+)?$/.test(spotPrice)) throw new InvalidArgumentError(`--amazonec2-spot-price "${spotPrice}" is not a price in USD`);
  const tags = str(flags['amazonec2-tags']);
  parseTags(tags);
  const openPorts = ((flags['amazonec2-open-port'] as string[] | undefined) ?? []).map(String);
  openPorts.forEach(parsePort);
  const privateOnly = Boolean(flags['amazonec2-private-address-only']);
  return {
    ...base,
    SSHUser: str(flags['amazonec2-ssh-user'], 'ubuntu'),
    SSHKeyPath: keyPath || base.SSHKeyPath,
    EnginePort: positiveInt(flags, 'amazonec2-engine-port', 2376, 65535),
    MachineId: randomUUID(),
    AccessKey: access,
    SecretKey: secret,
    SessionToken: str(flags['amazonec2-session-token']),
    Region: region,
    Zone: zone,
    InstanceType: str(flags['amazonec2-instance-type'], 't2.micro'),
    AMI: str(flags['amazonec2-ami']),
    DeviceName: str(flags['amazonec2-device-name'], '/dev/sda1'),
    RootSize: positiveInt(flags, 'amazonec2-root-size', 16, 16384),
    VolumeType: str(flags['amazonec2-volume-type'], 'gp2'),
    VpcId: str(flags['amazonec2-vpc-id']),
    SubnetId: str(flags['amazonec2-subnet-id']),
    SecurityGroupName: str(flags['amazonec2-security-group'], 'docker-machine'),
    SecurityGroupId: '',
    SecurityGroupReadOnly: Boolean(flags['amazonec2-security-group-readonly']),
    SecurityGroupCreated: false,
    OpenPorts: openPorts,
    KeyName: keyName,
    KeyPairImported: false,
    IamInstanceProfile: str(flags['amazonec2-iam-instance-profile']),
    UserDataFile: str(flags['amazonec2-userdata']),
    Tags: tags,
    PrivateIPOnly: privateOnly,
    UsePrivateIP: privateOnly || Boolean(flags['amazonec2-use-private-address']),
    RequestSpotInstance: Boolean(flags['amazonec2-request-spot-instance']),
    SpotPrice: spotPrice,
    SpotInstanceRequestId: '',
    Monitoring: Boolean(flags['amazonec2-monitoring']),
    Endpoint: endpoint,
    RetryCount: positiveInt(flags, 'amazonec2-retries', 5, 100),
    InstanceId: '',
    PrivateIPAddress: '',
  };
}
