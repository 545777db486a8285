/**
 * The EC2 driver against moto_server through the real SDK, without SSH (moto's
 * instances have no computer behind them, so nothing here connects to their addresses):
 * what the driver makes with its defaults, spot instances, and `machine create` refused:
 * each bad input gets one line naming the thing and the fix, exit 2 for usage errors and
 * 1 for failures, and nothing is left in EC2 or in the store. The creates run at once.
 */
import { CreateSubnetCommand, CreateVpcCommand, DeleteSubnetCommand, DeleteVpcCommand, DescribeSubnetsCommand, DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { DescribeSecurityGroupsCommand, DescribeSpotInstanceRequestsCommand } from '@aws-sdk/client-ec2';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { amazonec2Driver } from '../../../drivers/amazonec2/index.js';
import { EC2_FLAGS } from '../../../drivers/amazonec2/flags.js';
import { baseSettings } from '../../../drivers/driver.js';
import { newEd25519Key } from '../../../src/machine/sshkey.js';
import { startMoto, type Moto } from '../../fixtures/moto.js';
import { berth, berthAsync, tempDir, removeTempDirs, type Run } from './helpers.js';

import { jest } from '@jest/globals';

jest.setTimeout(120_000);

let moto: Moto;
let authMoto: Moto;
let tlsMoto: Moto;
const store = tempDir('berth-ec2-err-store-');
const runs = new Map<string, Run>();
let groupsBefore: string[] = [];

const create = (name: string, flags: string[], endpoint = moto.endpoint) =>
  ['machine', 'create', '-d', 'amazonec2', '--amazonec2-endpoint', endpoint, '--amazonec2-retries', '1', ...flags, name];

beforeAll(async () => {
  const pki = tlsFor127(tempDir('berth-ec2-tls-'));
  [moto, authMoto, tlsMoto] = await Promise.all([startMoto(), startMoto({ auth: true }), startMoto({ tls: pki })]);
  const env = { ...moto.env, BERTH_STORAGE_PATH: store };
  // eu-north-1 without its default VPC; a subnet in us-east-1b.
  const north = moto.client('eu-north-1');
  const [vpc] = (await north.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))).Vpcs!;
  for (const s of (await north.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }] }))).Subnets!) {
    await north.send(new DeleteSubnetCommand({ SubnetId: s.SubnetId }));
  }
  await north.send(new DeleteVpcCommand({ VpcId: vpc.VpcId }));
  const east = moto.client();
  const vpcB = (await east.send(new CreateVpcCommand({ CidrBlock: '10.77.0.0/16' }))).Vpc!.VpcId!;
  const subnetB = (await east.send(new CreateSubnetCommand({ VpcId: vpcB, CidrBlock: '10.77.1.0/24', AvailabilityZone: 'us-east-1b' }))).Subnet!.SubnetId!;
  groupsBefore = await moto.groups();

  const noCreds = Object.fromEntries(Object.entries(moto.env).filter(([k]) => !['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'].includes(k)));
  const cases: [string, string[], NodeJS.ProcessEnv?][] = [
    ['nocreds', create('nocreds', []), { ...process.env, ...noCreds, BERTH_STORAGE_PATH: store }],
    ['badcreds', create('badcreds', [], authMoto.endpoint)],
    ['region', create('region', ['--amazonec2-region', 'xx-nowhere-9'])],
    ['ami', create('ami', ['--amazonec2-ami', 'ami-0000deadbeef'])],
    ['novpc', create('novpc', ['--amazonec2-region', 'eu-north-1', '--amazonec2-ami', 'ami-785db401'])],
    ['zone', create('zone', ['--amazonec2-subnet-id', subnetB, '--amazonec2-ami', 'ami-785db401'])],
    ['refused', create('refused', ['--amazonec2-instance-type', 't9.bogus', '--amazonec2-security-group', 'berth-refused', '--amazonec2-ami', 'ami-785db401'])],
    ['unreachable', create('unreachable', [], 'http://127.0.0.1:9')],
    ['tags', create('tags', ['--amazonec2-tags', 'a,b,c'])],
    // bin/berth starts node without NODE_EXTRA_CA_CERTS and trusts its certificates itself.
    ['extra-ca', create('extraca', ['--amazonec2-ami', 'ami-0000deadbeef'], tlsMoto.endpoint), { ...process.env, ...env, NODE_EXTRA_CA_CERTS: pki.ca }],
    ['unknown-ca', create('unknownca', ['--amazonec2-ami', 'ami-0000deadbeef'], tlsMoto.endpoint), { ...process.env, ...env, NODE_EXTRA_CA_CERTS: '' }],
  ];
  const done = await Promise.all(cases.map(([, args, e]) => (e ? berthAsyncRaw(args, e) : berthAsync(args, env))));
  cases.forEach(([name], i) => runs.set(name, done[i]));
});
afterAll(() => {
  moto?.stop();
  authMoto?.stop();
  tlsMoto?.stop();
  removeTempDirs();
});

/** A CA, and a server certificate for 127.0.0.1 that it signed: PEM files in dir. */
function tlsFor127(dir: string): { ca: string; cert: string; key: string } {
  const f = (n: string) => join(dir, n);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-subj', '/CN=berth test CA', '-days', '2');
  openssl('req', ...ec, '-keyout', 'key.pem', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', 'cert.pem', '-days', '2', '-extfile', 'san.ext');
  return { ca: f('ca.pem'), cert: f('cert.pem'), key: f('key.pem') };
}

/** berthAsync with exactly this environment (to leave the AWS keys out). */
async function berthAsyncRaw(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const saved = { ...process.env };
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) delete process.env[k];
  try {
    return await berthAsync(args, env);
  } finally {
    Object.assign(process.env, saved);
  }
}

/** One error line (plus its hint), the exit code, and nothing stored. */
function refused(name: string, code: number, message: RegExp, hint?: RegExp): void {
  const r = runs.get(name)!;
  const errLines = r.stderr.split('\n').filter((l) => l.startsWith('Error: '));
  expect({ code: r.code, errors: errLines.length }).toEqual({ code, errors: 1 });
  expect(errLines[0]).toMatch(message);
  if (hint) expect(r.stderr).toMatch(hint);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

test('no credentials anywhere: exit 2, says how to give them', () => {
  refused('nocreds', 2, /no AWS credentials found/, /AWS_ACCESS_KEY_ID/);
});

test('credentials AWS does not know: exit 2, names the key', () => {
  refused('badcreds', 2, /AWS refused access key AKIA…MPLE/, /--amazonec2-access-key/);
});

test('a region that does not exist: exit 2, lists the real ones', () => {
  refused('region', 2, /region "xx-nowhere-9" does not exist/, /us-east-1/);
});

test('an AMI that does not exist: exit 2', () => {
  refused('ami', 2, /AMI "ami-0000deadbeef" does not exist in us-east-1/);
});

test('no default VPC: exit 2, says which flags to pass', () => {
  refused('novpc', 2, /no default VPC in eu-north-1/, /--amazonec2-vpc-id and --amazonec2-subnet-id/);
});

test('a subnet in another zone: exit 2, names both zones', () => {
  refused('zone', 2, /is in zone us-east-1b, not us-east-1a/, /--amazonec2-zone b/);
});

test('RunInstances refused: exit 1 with the EC2 error, and the group and key pair it made are gone', async () => {
  refused('refused', 1, /RunInstances failed: InvalidInstanceType/);
  expect(await moto.groups()).toEqual(groupsBefore);
  expect(await moto.keyPairs()).toEqual([]);
});

test('an endpoint that does not answer: exit 1, names it', () => {
  refused('unreachable', 1, /http:\/\/127\.0\.0\.1:9 does not answer/, /--amazonec2-endpoint/);
});

test('an https endpoint whose CA is in NODE_EXTRA_CA_CERTS is trusted; without it, exit 1 naming the certificate', () => {
  refused('extra-ca', 2, /AMI "ami-0000deadbeef" does not exist in us-east-1/);
  refused('unknown-ca', 1, /https:\/\/127\.0\.0\.1:\d+ presented a certificate berth does not trust .*unable to verify/, /NODE_EXTRA_CA_CERTS/);
});

test('bad flag values: exit 2 before any call', () => {
  refused('tags', 2, /--amazonec2-tags "a,b,c" must be key,value pairs/);
});

test('after all of them: no instance, key pair or new group in EC2, nothing in the store', async () => {
  expect(await moto.liveInstances()).toEqual([]);
  expect(await moto.liveInstances(undefined, 'eu-north-1')).toEqual([]);
  expect(await moto.keyPairs()).toEqual([]);
  expect(await moto.groups()).toEqual(groupsBefore);
  expect(berth(['machine', 'ls', '-q'], { BERTH_STORAGE_PATH: store }).stdout).toBe('');
});

test('create -d amazonec2 --help lists every flag with its env var and default', () => {
  const r = berth(['machine', 'create', '-d', 'amazonec2', '--help'], { OCLIF_COLUMNS: '400' });
  expect(r.code).toBe(0);
  const section = r.stdout.slice(r.stdout.indexOf('AMAZONEC2 FLAGS'));
  for (const f of EC2_FLAGS) {
    const line = section.split('\n').find((l) => l.trimStart().startsWith(`--${f.name}`));
    expect(line).toBeDefined();
    expect(line).toContain(`env: ${f.envVar}`);
    if (f.default !== undefined && f.default !== false) expect(line).toContain(`default: ${f.default}`);
  }
});

/** A driver as create makes it (key pair files in a temp machine dir), through the real SDK. */
function driverFor(name: string, flags: Record<string, unknown>) {
  const dir = tempDir('berth-ec2-drv-');
  const key = newEd25519Key(name);
  writeFileSync(join(dir, 'id_rsa'), key.privateKey, { mode: 0o600 });
  writeFileSync(join(dir, 'id_rsa.pub'), key.publicKey);
  const keys = { 'amazonec2-access-key': moto.env.AWS_ACCESS_KEY_ID, 'amazonec2-secret-key': moto.env.AWS_SECRET_ACCESS_KEY };
  return amazonec2Driver.fromFlags(baseSettings(name, dir, join(dir, 'id_rsa')), { 'amazonec2-endpoint': moto.endpoint, ...keys, ...flags } as never);
}

test('defaults: Ubuntu found by image search, default VPC and subnet of zone a, group with 22, 2376 and --open-port', async () => {
  const d = driverFor('defaults', { 'amazonec2-open-port': ['8080', '53/udp'], 'amazonec2-security-group': 'berth-defaults' });
  await d.preCreateCheck();
  const s = d.settings as Record<string, unknown>;
  expect(s.AMI).toBe('ami-785db401'); // moto has no Canonical SSM parameter: the newest LTS Canonical image (16.04 over 14.04)
  expect(String(s.SubnetId)).toMatch(/^subnet-/);
  await d.create();
  const [inst] = await moto.liveInstances('defaults');
  expect(inst.Placement?.AvailabilityZone).toBe('us-east-1a');
  expect(inst.SubnetId).toBe(s.SubnetId);
  expect(await d.ip()).toBe(inst.PublicIpAddress);
  const [g] = (await moto.client().send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['berth-defaults'] }] }))).SecurityGroups!;
  expect(g.IpPermissions!.map((p) => `${p.FromPort}/${p.IpProtocol}`).sort()).toEqual(['22/tcp', '2376/tcp', '53/udp', '8080/tcp']);
  expect(await d.state(undefined as never)).toBe('Running');
  await d.remove();
  expect(await moto.liveInstances('defaults')).toEqual([]);
  expect(await moto.groups()).toContain('berth-defaults'); // rm keeps the group, as Docker Machine does
  expect(await moto.keyPairs()).toEqual([]);
});

test('spot: a spot request at the given price makes the instance; rm cancels the request and terminates it', async () => {
  const d = driverFor('spot', { 'amazonec2-request-spot-instance': true, 'amazonec2-spot-price': '0.02', 'amazonec2-ami': 'ami-785db401' });
  await d.preCreateCheck();
  await d.create();
  const s = d.settings as Record<string, unknown>;
  const [req] = (await moto.client().send(new DescribeSpotInstanceRequestsCommand({ SpotInstanceRequestIds: [String(s.SpotInstanceRequestId)] }))).SpotInstanceRequests!;
  expect(req.SpotPrice).toMatch(/^0\.02/);
  expect(req.InstanceId).toBe(s.InstanceId);
  await d.remove();
  expect(await moto.liveInstances()).toEqual([]);
  const [after] = (await moto.client().send(new DescribeSpotInstanceRequestsCommand({ SpotInstanceRequestIds: [String(s.SpotInstanceRequestId)] }))).SpotInstanceRequests!;
  expect(after?.State ?? 'gone').toMatch(/^(cancelled|gone)$/); // moto forgets a cancelled request
});
