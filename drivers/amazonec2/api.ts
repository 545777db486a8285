/**
 * The EC2 (and SSM) calls the driver makes, behind one small interface, with every
 * SDK error mapped once, here, onto the machine error kinds with a hint.
 */
import {
  AuthorizeSecurityGroupIngressCommand, CancelSpotInstanceRequestsCommand, CreateSecurityGroupCommand,
  DeleteKeyPairCommand, DeleteSecurityGroupCommand, DescribeImagesCommand, DescribeInstancesCommand,
  DescribeKeyPairsCommand, DescribeRegionsCommand, DescribeSecurityGroupsCommand, DescribeSpotInstanceRequestsCommand,
  DescribeSubnetsCommand, DescribeVpcsCommand, EC2Client, ImportKeyPairCommand, RebootInstancesCommand,
  RequestSpotInstancesCommand, RunInstancesCommand, StartInstancesCommand, StopInstancesCommand, TerminateInstancesCommand,
  type Filter, type Image, type Instance, type IpPermission, type RequestSpotInstancesCommandInput, type RunInstancesCommandInput,
  type SecurityGroup, type SpotInstanceRequest, type Subnet, type Vpc,
} from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { InvalidArgumentError, MachineError, ProvisionError, UnreachableError, reason } from '../../src/machine/errors.js';
import type { Ec2Settings } from './flags.js';

export type { Image, Instance, IpPermission, SecurityGroup, SpotInstanceRequest, Subnet, Vpc };

export interface Ec2Api {
  /** Region names, asked of `via`'s endpoint when given (the machine's own region may not exist). */
  describeRegions(via?: string): Promise<string[]>;
  describeImages(input: { ImageIds?: string[]; Owners?: string[]; Filters?: Filter[] }): Promise<Image[]>;
  /** An SSM parameter's value, or undefined when it does not exist. */
  getParameter(name: string): Promise<string | undefined>;
  describeVpcs(filters: Filter[], ids?: string[]): Promise<Vpc[]>;
  describeSubnets(filters: Filter[], ids?: string[]): Promise<Subnet[]>;
  describeSecurityGroups(filters: Filter[]): Promise<SecurityGroup[]>;
  createSecurityGroup(name: string, description: string, vpcId: string, tags: [string, string][]): Promise<string>;
  authorizeIngress(groupId: string, permissions: IpPermission[]): Promise<void>;
  deleteSecurityGroup(groupId: string): Promise<void>;
  describeKeyPairs(names: string[]): Promise<string[]>;
  importKeyPair(name: string, publicKey: string, tags: [string, string][]): Promise<void>;
  deleteKeyPair(name: string): Promise<void>;
  runInstance(input: RunInstancesCommandInput): Promise<Instance>;
  requestSpotInstance(input: RequestSpotInstancesCommandInput): Promise<string>;
  describeSpotRequests(ids: string[]): Promise<SpotInstanceRequest[]>;
  cancelSpotRequests(ids: string[]): Promise<void>;
  describeInstances(filters: Filter[], ids?: string[]): Promise<Instance[]>;
  startInstance(id: string): Promise<void>;
  stopInstance(id: string, force: boolean): Promise<void>;
  rebootInstance(id: string): Promise<void>;
  terminateInstances(ids: string[]): Promise<void>;
}

const tagSpec = (type: 'security-group' | 'key-pair', tags: [string, string][]) =>
  tags.length ? [{ ResourceType: type, Tags: tags.map(([Key, Value]) => ({ Key, Value })) }] : undefined;

/** The real API through @aws-sdk/client-ec2: the SDK's credential chain unless keys are given. */
export function sdkEc2Api(s: Ec2Settings): Ec2Api {
  // The SDK warns on every run that its releases from 2027 on need Node 22; berth's users cannot act on that.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const config = {
    region: s.Region,
    maxAttempts: s.RetryCount,
    ...(s.Endpoint ? { endpoint: s.Endpoint } : {}),
    ...(s.AccessKey ? { credentials: { accessKeyId: s.AccessKey, secretAccessKey: s.SecretKey, ...(s.SessionToken ? { sessionToken: s.SessionToken } : {}) } } : {}),
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 60_000 },
  };
  const ec2 = new EC2Client(config);
  const elsewhere = (region: string) => new EC2Client({ ...config, region, maxAttempts: 1 });
  const ssm = new SSMClient(config);
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw mapAwsError(err, what, s);
    }
  };
  const all = async <T>(what: string, page: (token?: string) => Promise<{ items: T[]; next?: string }>): Promise<T[]> => {
    const out: T[] = [];
    let token: string | undefined;
    do {
      const r = await call(what, () => page(token));
      out.push(...r.items);
      token = r.next;
    } while (token);
    return out;
  };
  return {
    describeRegions: (via) => call('DescribeRegions', async () => ((await (via ? elsewhere(via) : ec2).send(new DescribeRegionsCommand({ AllRegions: true }))).Regions ?? []).map((r) => r.RegionName!)),
    describeImages: (input) => call('DescribeImages', async () => (await ec2.send(new DescribeImagesCommand(input))).Images ?? []),
    getParameter: (name) => call('ssm:GetParameter', async () => {
      try {
        return (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
      } catch (err) {
        if ((err as Error).name === 'ParameterNotFound') return undefined;
        throw err;
      }
    }),
    describeVpcs: (filters, ids) => call('DescribeVpcs', async () => (await ec2.send(new DescribeVpcsCommand({ Filters: filters, VpcIds: ids }))).Vpcs ?? []),
    describeSubnets: (filters, ids) => call('DescribeSubnets', async () => (await ec2.send(new DescribeSubnetsCommand({ Filters: filters, SubnetIds: ids }))).Subnets ?? []),
    describeSecurityGroups: (filters) => call('DescribeSecurityGroups', async () => (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: filters }))).SecurityGroups ?? []),
    createSecurityGroup: (name, description, vpcId, tags) => call('CreateSecurityGroup', async () =>
      (await ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: description, VpcId: vpcId, TagSpecifications: tagSpec('security-group', tags) }))).GroupId!),
    authorizeIngress: (groupId, permissions) => call('AuthorizeSecurityGroupIngress', async () => {
      await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: permissions }));
    }),
    deleteSecurityGroup: (groupId) => call('DeleteSecurityGroup', async () => { await ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId })); }),
    describeKeyPairs: (names) => call('DescribeKeyPairs', async () => {
      try {
        return ((await ec2.send(new DescribeKeyPairsCommand({ KeyNames: names }))).KeyPairs ?? []).map((k) => k.KeyName!);
      } catch (err) {
        if ((err as Error).name === 'InvalidKeyPair.NotFound') return [];
        throw err;
      }
    }),
    importKeyPair: (name, publicKey, tags) => call('ImportKeyPair', async () => {
      await ec2.send(new ImportKeyPairCommand({ KeyName: name, PublicKeyMaterial: Buffer.from(publicKey), TagSpecifications: tagSpec('key-pair', tags) }));
    }),
    deleteKeyPair: (name) => call('DeleteKeyPair', async () => { await ec2.send(new DeleteKeyPairCommand({ KeyName: name })); }),
    runInstance: (input) => call('RunInstances', async () => (await ec2.send(new RunInstancesCommand(input))).Instances![0]),
    requestSpotInstance: (input) => call('RequestSpotInstances', async () => (await ec2.send(new RequestSpotInstancesCommand(input))).SpotInstanceRequests![0].SpotInstanceRequestId!),
    describeSpotRequests: (ids) => call('DescribeSpotInstanceRequests', async () => (await ec2.send(new DescribeSpotInstanceRequestsCommand({ SpotInstanceRequestIds: ids }))).SpotInstanceRequests ?? []),
    cancelSpotRequests: (ids) => call('CancelSpotInstanceRequests', async () => { await ec2.send(new CancelSpotInstanceRequestsCommand({ SpotInstanceRequestIds: ids })); }),
    describeInstances: (filters, ids) => all('DescribeInstances', async (token) => {
      const r = await ec2.send(new DescribeInstancesCommand({ Filters: filters.length ? filters : undefined, InstanceIds: ids, NextToken: token }));
      return { items: (r.Reservations ?? []).flatMap((x) => x.Instances ?? []), next: r.NextToken };
    }),
    startInstance: (id) => call('StartInstances', async () => { await ec2.send(new StartInstancesCommand({ InstanceIds: [id] })); }),
    stopInstance: (id, force) => call('StopInstances', async () => { await ec2.send(new StopInstancesCommand({ InstanceIds: [id], Force: force })); }),
    rebootInstance: (id) => call('RebootInstances', async () => { await ec2.send(new RebootInstancesCommand({ InstanceIds: [id] })); }),
    terminateInstances: (ids) => call('TerminateInstances', async () => { await ec2.send(new TerminateInstancesCommand({ InstanceIds: ids })); }),
  };
}

const AUTH = new Set(['AuthFailure', 'InvalidClientTokenId', 'SignatureDoesNotMatch', 'UnrecognizedClientException', 'IncompleteSignature', 'InvalidAccessKeyId', 'ExpiredToken', 'RequestExpired']);
// node's codes for a peer certificate that does not verify.
const TLS_TRUST = /^(UNABLE_TO_|SELF_SIGNED_CERT|DEPTH_ZERO_SELF_SIGNED|CERT_|ERR_TLS_CERT_ALTNAME_INVALID$)/;
const NET = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH|socket hang up|TimeoutError|connect timeout/i;

/** One error kind and one line for each way an AWS call fails. */
export function mapAwsError(err: unknown, what: string, s: Pick<Ec2Settings, 'Region' | 'Endpoint' | 'AccessKey'>): MachineError {
  if (err instanceof MachineError) return err;
  const e = err as Error & { code?: string; $metadata?: { httpStatusCode?: number } };
  const name = e?.name ?? '';
  const msg = reason(err);
  const endpoint = s.Endpoint || `the EC2 endpoint of ${s.Region}`;
  if (name === 'CredentialsProviderError' || /Could not load credentials|Resolved credential object is not valid/i.test(msg)) {
    return new InvalidArgumentError('no AWS credentials found', {
      cause: err,
      hint: 'pass --amazonec2-access-key and --amazonec2-secret-key, set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with ~/.aws/credentials',
    });
  }
  if (AUTH.has(name)) {
    const who = s.AccessKey ? `access key ${s.AccessKey.slice(0, 4)}…${s.AccessKey.slice(-4)}` : 'the credentials from the SDK chain';
    return new InvalidArgumentError(`AWS refused ${who} (${what}: ${name}: ${msg})`, { cause: err, hint: 'check --amazonec2-access-key/--amazonec2-secret-key or AWS_PROFILE, and that the key is active' });
  }
  if (name === 'UnauthorizedOperation' || name === 'AccessDenied' || name === 'AccessDeniedException') {
    return new InvalidArgumentError(`these AWS credentials may not call ${what}: ${msg}`, { cause: err, hint: 'grant the IAM user or role the EC2 permissions berth needs (see docs/machine.md)' });
  }
  if (e?.code && TLS_TRUST.test(e.code)) {
    return new UnreachableError(`${endpoint} presented a certificate berth does not trust (${what}: ${msg})`, {
      cause: err,
      hint: s.Endpoint ? 'check --amazonec2-endpoint; a private CA goes in a PEM file named by NODE_EXTRA_CA_CERTS' : 'something between here and AWS presents its own certificate: put its CA in a PEM file named by NODE_EXTRA_CA_CERTS',
    });
  }
  if (NET.test(name) || NET.test(msg) || e?.code && NET.test(e.code)) {
    return new UnreachableError(`${endpoint} does not answer (${what}: ${msg})`, { cause: err, hint: s.Endpoint ? 'check --amazonec2-endpoint' : 'check the network and --amazonec2-region' });
  }
  return new ProvisionError(`EC2 ${what} failed: ${name && name !== 'Error' ? `${name}: ` : ''}${msg}`, { cause: err });
}
