/**
 * The EC2 driver's own logic, with the SDK's transport replaced by aws-sdk-client-mock
 * (the end-to-end tests run the same code against moto_server): flag parsing, state
 * mapping, the waiter's bounded wait, and what a failed create removes, in which order.
 */
import {
  DeleteKeyPairCommand, DeleteSecurityGroupCommand, DescribeInstancesCommand, DescribeSecurityGroupsCommand, EC2Client,
  RebootInstancesCommand, RunInstancesCommand, StartInstancesCommand, StopInstancesCommand, TerminateInstancesCommand,
  DescribeKeyPairsCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { amazonec2Driver, AmazonEc2Driver, machineState } from '../../../drivers/amazonec2/index.js';
import { EC2_FLAGS, settingsFromFlags, type Ec2Settings } from '../../../drivers/amazonec2/flags.js';
import { baseSettings, type EngineService } from '../../../drivers/driver.js';
import { InvalidArgumentError, TimeoutError } from '../../../src/machine/errors.js';
import { driverConformance } from '../../conformance/driver.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const ec2 = mockClient(EC2Client);
const engine: EngineService = { async start() {}, async stop() {}, async kill() {}, async running() { return true; } };
const validFlags = { 'amazonec2-access-key': 'AKIAX', 'amazonec2-secret-key': 'secret', 'amazonec2-endpoint': 'http://127.0.0.1:9' };
const running = { InstanceId: 'i-1', State: { Name: 'running' as const }, PrivateIpAddress: '10.0.0.4', PublicIpAddress: '203.0.113.9' };

beforeEach(() => {
  ec2.reset();
  ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [running] }] });
});

driverConformance(amazonec2Driver, validFlags, engine);

const make = (flags: Record<string, unknown> = {}) => settingsFromFlags(baseSettings('m1', '/store', '/store/machines/m1/id_rsa'), { ...validFlags, ...flags } as never);

test('flags: Docker Machine defaults, each with an AWS_* variable', () => {
  const s = make();
  expect([s.Region, s.Zone, s.InstanceType, s.RootSize, s.VolumeType, s.SecurityGroupName, s.SSHUser, s.RetryCount, s.SpotPrice])
    .toEqual(['us-east-1', 'a', 't2.micro', 16, 'gp2', 'docker-machine', 'ubuntu', 5, '0.50']);
  expect(EC2_FLAGS.every((f) => f.envVar?.startsWith('AWS_'))).toBe(true);
  expect(make({ 'amazonec2-private-address-only': true }).UsePrivateIP).toBe(true);
  expect(make({ 'amazonec2-keypair-name': 'k', 'amazonec2-ssh-keypath': '/keys/k' }).SSHKeyPath).toBe('/keys/k');
  expect(make().MachineId).not.toBe(make().MachineId);
});

test.each([
  [{ 'amazonec2-zone': 'us-east-1b' }, /must be the zone's letter/],
  [{ 'amazonec2-region': 'Mars' }, /is not a region name/],
  [{ 'amazonec2-keypair-name': 'k' }, /needs --amazonec2-ssh-keypath/],
  [{ 'amazonec2-secret-key': undefined }, /go together/],
  [{ 'amazonec2-open-port': ['80/sctp'] }, /is not PORT/],
  [{ 'amazonec2-tags': 'a' }, /key,value pairs/],
  [{ 'amazonec2-root-size': 0 }, /whole number/],
  [{ 'amazonec2-spot-price': 'cheap' }, /not a price/],
  [{ 'amazonec2-endpoint': 'ftp://x' }, /not an http\(s\) URL/],
])('bad flags %j are refused as invalid arguments', (flags, message) => {
  expect(() => make(flags)).toThrow(InvalidArgumentError);
  expect(() => make(flags)).toThrow(message);
});

test('EC2 states map onto machine states', () => {
  expect(['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated', undefined].map(machineState))
    .toEqual(['Starting', 'Running', 'Stopping', 'Stopped', 'Error', 'Error', 'Error']);
});

test('lifecycle verbs are the EC2 calls: kill is a forced stop, restart a reboot', async () => {
  const d = new AmazonEc2Driver({ ...make(), InstanceId: 'i-1' });
  await d.stop();
  await d.kill();
  await d.restart();
  await d.start();
  expect(ec2.commandCalls(StopInstancesCommand).map((c) => c.args[0].input.Force)).toEqual([false, true]);
  expect(ec2.commandCalls(RebootInstancesCommand)).toHaveLength(1);
  expect(ec2.commandCalls(StartInstancesCommand)[0].args[0].input.InstanceIds).toEqual(['i-1']);
  // The stored address stays until the machine layer moves the certificate along.
  expect(d.settings.IPAddress).toBe('');
  expect(await d.ip()).toBe('203.0.113.9');
  expect(await new AmazonEc2Driver({ ...make({ 'amazonec2-use-private-address': true }), InstanceId: 'i-1' }).ip()).toBe('10.0.0.4');
});

/** A driver past preCreateCheck: network, AMI and group known, the user's own key pair. */
function readyDriver(): AmazonEc2Driver {
  const s: Ec2Settings = { ...make({ 'amazonec2-keypair-name': 'mine', 'amazonec2-ssh-keypath': '/k' }), AMI: 'ami-1', VpcId: 'vpc-1', SubnetId: 'subnet-1' };
  ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-1', IpPermissions: [22, 2376].map((p) => ({ IpProtocol: 'tcp', FromPort: p, ToPort: p })) }] });
  return new AmazonEc2Driver(s);
}

test('an instance that never reaches running: a bounded wait, then a timeout naming it and its state', async () => {
  process.env.BERTH_EC2_WAIT_TIMEOUT = '1';
  try {
    const d = readyDriver();
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    ec2.on(DescribeInstancesCommand, { InstanceIds: ['i-9'] }).resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-9', State: { Name: 'pending' } }] }] });
    ec2.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: 'i-9', State: { Name: 'pending' } }] });
    const err = await d.create().catch((e) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.message).toBe('instance i-9 did not reach "running" within 1 s: it stayed "pending"');
    const run = ec2.commandCalls(RunInstancesCommand)[0].args[0].input;
    expect(run.ClientToken?.startsWith(`${d.settings.MachineId}-`)).toBe(true);
    expect(run.TagSpecifications?.[0].Tags).toEqual(expect.arrayContaining([{ Key: 'berth-machine-id', Value: d.settings.MachineId }]));
  } finally {
    delete process.env.BERTH_EC2_WAIT_TIMEOUT;
  }
});

test('a re-run takes over the instance tagged for the machine instead of launching another', async () => {
  const d = readyDriver();
  ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [running] }] });
  await d.create();
  expect(ec2.commandCalls(RunInstancesCommand)).toHaveLength(0);
  expect(d.settings.InstanceId).toBe('i-1');
  expect(d.settings.IPAddress).toBe('203.0.113.9');
});

test('a failed create removes the instance, then the key pair, then (once the instance is gone) the group it made', async () => {
  const s: Ec2Settings = { ...make(), InstanceId: 'i-1', KeyName: '', SecurityGroupCreated: true };
  const d = new AmazonEc2Driver(s);
  ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-mine' }] });
  ec2.on(DescribeInstancesCommand, { InstanceIds: ['i-1'] })
    .resolvesOnce({ Reservations: [{ Instances: [{ InstanceId: 'i-1', State: { Name: 'shutting-down' } }] }] })
    .resolves({ Reservations: [] });
  ec2.on(DescribeInstancesCommand, { Filters: [{ Name: 'tag:berth-machine-id', Values: [s.MachineId] }, { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }] })
    .resolves({ Reservations: [] });
  await d.remove({ createFailed: true });
  const order = ec2.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name.replace(/Command$/, ''));
  const mutations = order.filter((n) => !n.startsWith('Describe'));
  expect(mutations).toEqual(['TerminateInstances', 'DeleteKeyPair', 'DeleteSecurityGroup']);
  // The group goes only after the instance was seen gone.
  expect(order.lastIndexOf('DescribeInstances')).toBeLessThan(order.indexOf('DeleteSecurityGroup'));
  expect(ec2.commandCalls(DeleteKeyPairCommand)[0].args[0].input.KeyName).toBe(d.ownKeyName());
  expect(ec2.commandCalls(DeleteSecurityGroupCommand)[0].args[0].input.GroupId).toBe('sg-mine');
});

test('rm keeps the security group and a key pair the user named', async () => {
  const d = new AmazonEc2Driver({ ...make({ 'amazonec2-keypair-name': 'mine', 'amazonec2-ssh-keypath': '/k' }), InstanceId: 'i-1', SecurityGroupCreated: true });
  await d.remove();
  expect(ec2.commandCalls(TerminateInstancesCommand)[0].args[0].input.InstanceIds).toEqual(['i-1']);
  expect(ec2.commandCalls(DeleteKeyPairCommand)).toHaveLength(0);
  expect(ec2.commandCalls(DeleteSecurityGroupCommand)).toHaveLength(0);
  expect(ec2.commandCalls(DescribeKeyPairsCommand)).toHaveLength(0);
});
