/**
 * `machine create -d generic` on namespace hosts, then everything a user does with
 * the machines: env in a real shell + the real docker CLI over mTLS, use (docker
 * context), ls, ssh, scp, regenerate-certs, an IP change, export/import, rm.
 */
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startSshHosts, type SshHosts } from '../../fixtures/sshhosts.js';
import { serialOf } from './certs.js';
import { berth, berthAsync, requireDockerCli, sh, startRegistry, tempDir, removeTempDirs } from './helpers.js';

import { jest } from '@jest/globals';

jest.setTimeout(180_000);

let f: SshHosts;
let reg: Awaited<ReturnType<typeof startRegistry>>;
const store = tempDir('berth-machine-store-');
const dockerConfig = tempDir('berth-docker-config-');
const env = { BERTH_STORAGE_PATH: store, DOCKER_CONFIG: dockerConfig, DOCKER_HOST: '', DOCKER_TLS_VERIFY: '', DOCKER_CERT_PATH: '' };
const createArgs = (ip: string, name: string) => ['machine', 'create', '-d', 'generic', '--generic-ip-address', ip, '--generic-ssh-key', f.keyPath,
  '--engine-insecure-registry', reg.host, '--engine-label', `team=${name}`, name];

beforeAll(async () => {
  requireDockerCli();
  f = await startSshHosts(2);
  reg = await startRegistry(f.subnet.replace(/\.0\/24$/, '.1'));
});
afterAll(() => {
  reg?.stop();
  f?.cleanup();
  removeTempDirs();
});

/**
 * The namespace hosts share this machine's process table, so what a create runs on a
 * host can be watched: the longest base64 run in the command line of its provisioning
 * script (the one that prints @berth:facts), sampled until `stop`.
 */
function watchProvisioningCommands(): { stop(): { seen: number; longestBase64: number } } {
  let seen = 0;
  let longestBase64 = 0;
  const timer = setInterval(() => {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let cmdline: string;
      try { cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { continue; }
      if (!cmdline.includes('@berth:facts')) continue;
      seen++;
      for (const run of cmdline.match(/[A-Za-z0-9+/=]{64,}/g) ?? []) longestBase64 = Math.max(longestBase64, run.length);
    }
  }, 20);
  return { stop: () => { clearInterval(timer); return { seen, longestBase64 }; } };
}

test('two generic hosts are created at once; the server key never shows in the hosts\' process list', async () => {
  const watch = watchProvisioningCommands();
  const [a, b] = await Promise.all([berthAsync(createArgs(f.hosts[0].ip, 'm0'), env), berthAsync(createArgs(f.hosts[1].ip, 'm1'), env)]);
  const commands = watch.stop();
  expect(commands.seen).toBeGreaterThan(0);
  // The configuration (server key included) travels on stdin, not as an argument.
  expect(commands.longestBase64).toBeLessThan(200);
  expect({ code: a.code, stderr: a.stderr }).toEqual({ code: 0, stderr: '' });
  expect({ code: b.code, stderr: b.stderr }).toEqual({ code: 0, stderr: '' });
  expect(a.stdout).toContain('Installing the engine bundle');
  const config = JSON.parse(readFileSync(join(store, 'machines', 'm0', 'config.json'), 'utf8'));
  expect(config.DriverName).toBe('generic');
  expect(config.HostOptions.AuthOptions.ServerCertPath).toBe('machines/m0/server.pem');
});

test('eval of the bash env output points the real docker CLI at each host over mTLS', () => {
  for (const [i, name] of ['m0', 'm1'].entries()) {
    const r = sh(`set -e; eval $("$BERTH" machine env ${name}); echo "$DOCKER_MACHINE_NAME $DOCKER_HOST"; docker pull -q ${reg.image}; docker image ls --format '{{.Repository}}:{{.Tag}}'`, { ...env, BERTH: join(process.cwd(), 'bin', 'berth') });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${name} tcp://${f.hosts[i].ip}:2376\n${reg.image}\n${reg.image}\n`);
  }
});

test('docker run --rm busybox echo hello runs on each host', () => {
  for (const name of ['m0', 'm1']) {
    const r = sh(`set -e; eval $("$BERTH" machine env ${name}); docker run --rm ${reg.image} echo hello`, { ...env, BERTH: join(process.cwd(), 'bin', 'berth') });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hello\n');
  }
});

test('use writes a docker context that plain docker follows; use --unset goes back', () => {
  expect(berth(['machine', 'use', 'm1'], env).code).toBe(0);
  const r = sh('docker context show && docker ps --format "{{.ID}}" && docker info --format "{{.Name}}"', env);
  expect(r.stderr).toBe('');
  expect(r.stdout.split('\n')[0]).toBe('berth-m1');
  expect(berth(['machine', 'use', '--unset'], env).code).toBe(0);
  expect(sh('docker context show', env).stdout.trim()).toBe('default');
});

test('ls: table with ACTIVE, filters, --format, -q, --json', () => {
  const url0 = `tcp://${f.hosts[0].ip}:2376`;
  const table = berth(['machine', 'ls'], { ...env, DOCKER_HOST: url0 });
  expect(table.code).toBe(0);
  const lines = table.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^NAME\s+ACTIVE\s+DRIVER\s+STATE\s+URL\s+SWARM\s+DOCKER\s+ERRORS$/);
  expect(lines[1]).toMatch(new RegExp(`^m0\\s+\\*\\s+generic\\s+Running\\s+${url0.replace(/\./g, '\\.')}\\s+v\\S+\\s*$`));
  expect(lines[2]).toMatch(/^m1\s+-\s+generic\s+Running\s/);
  expect(berth(['machine', 'ls', '-q', '--filter', 'name=^m1$'], env).stdout).toBe('m1\n');
  expect(berth(['machine', 'ls', '-q', '--filter', 'label=team=m0'], env).stdout).toBe('m0\n');
  expect(berth(['machine', 'ls', '-q', '--filter', 'driver=local'], env).stdout).toBe('');
  expect(berth(['machine', 'ls', '--format', '{{.Name}}:{{.State}}:{{.Active}}', '--filter', 'state=Running'], { ...env, DOCKER_HOST: url0 }).stdout).toBe('m0:Running:*\nm1:Running:-\n');
  const json = JSON.parse(berth(['machine', 'ls', '--json'], env).stdout);
  expect(json.map((r: { Name: string }) => r.Name)).toEqual(['m0', 'm1']);
  expect(berth(['machine', 'active'], { ...env, DOCKER_HOST: url0 }).stdout).toBe('m0\n');
});

test('ssh runs a command and returns its exit status; scp copies both ways', () => {
  const r = berth(['machine', 'ssh', 'm0', 'echo on-$(cat /etc/hostname); exit 3'], env);
  expect(r.stdout).toBe('on-host0\n');
  expect(r.code).toBe(3);
  const local = tempDir('berth-scp-');
  writeFileSync(join(local, 'up.txt'), 'payload\n');
  expect(berth(['machine', 'scp', join(local, 'up.txt'), 'm0:/opt/up.txt'], env).code).toBe(0);
  expect(berth(['machine', 'ssh', 'm0', 'cat /opt/up.txt'], env).stdout).toBe('payload\n');
  expect(berth(['machine', 'ssh', 'm1', 'cat /opt/up.txt 2>/dev/null || echo absent'], env).stdout).toBe('absent\n');
  mkdirSync(join(local, 'down'));
  expect(berth(['machine', 'scp', 'm0:/etc/hostname', join(local, 'down', 'h')], env).code).toBe(0);
  expect(readFileSync(join(local, 'down', 'h'), 'utf8')).toBe('host0\n');
});

test('generic cannot stop or kill a host: a clear error, exit 1', () => {
  const r = berth(['machine', 'stop', 'm0'], env);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/generic driver cannot stop a host/);
});

test('regenerate-certs issues a new server cert and the engine uses it', () => {
  const before = serialOf(readFileSync(join(store, 'machines', 'm0', 'server.pem'), 'utf8'));
  expect(berth(['machine', 'regenerate-certs', '-f', 'm0'], env).code).toBe(0);
  const after = serialOf(readFileSync(join(store, 'machines', 'm0', 'server.pem'), 'utf8'));
  expect(after).not.toBe(before);
  const served = sh(`echo | openssl s_client -connect ${f.hosts[0].ip}:2376 -cert ${store}/machines/m0/cert.pem -key ${store}/machines/m0/key.pem 2>/dev/null | openssl x509 -noout -serial`);
  expect(served.stdout.trim().toLowerCase()).toBe(`serial=${after}`.toLowerCase());
});

test('after an IP change, env reissues the server cert by itself and docker works on the new address', () => {
  const newIp = f.freeIp();
  f.hosts[1].setIp(newIp);
  // The machine learns its new address (for generic hosts, the user edits it, as with Docker Machine).
  const cfgPath = join(store, 'machines', 'm1', 'config.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
  cfg.Driver.IPAddress = newIp;
  writeFileSync(cfgPath, JSON.stringify(cfg));
  const r = sh(`set -e; eval $("$BERTH" machine env m1); echo $DOCKER_HOST; docker info --format '{{.Name}}' >/dev/null && echo ok`, { ...env, BERTH: join(process.cwd(), 'bin', 'berth') });
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe(`tcp://${newIp}:2376\nok\n`);
  const sans = sh(`openssl x509 -noout -ext subjectAltName -in ${store}/machines/m1/server.pem`).stdout;
  expect(sans).toContain(`IP Address:${newIp}`);
});

test('a host that stopped answering shows Timeout within the ls timeout', () => {
  // m1's recorded address now swallows every packet.
  const lost = f.blackholeIp();
  const cfgPath = join(store, 'machines', 'm1', 'config.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
  cfg.Driver.IPAddress = lost;
  writeFileSync(cfgPath, JSON.stringify(cfg));
  // Timeout is only ever reported by the -t timer firing: the state itself shows the bound held.
  const r = berth(['machine', 'ls', '-t', '3', '--format', '{{.Name}} {{.State}}'], env);
  expect(r.stdout).toBe('m0 Running\nm1 Timeout\n');
});

test('export and import move a machine into another store, which then reaches its engine', () => {
  const file = join(tempDir('berth-export-'), 'm0.tgz');
  expect(berth(['machine', 'export', 'm0', '-o', file], env).code).toBe(0);
  const other = { ...env, BERTH_STORAGE_PATH: tempDir('berth-machine-store2-') };
  const imp = berth(['machine', 'import', file], other);
  expect(imp.stderr).toBe('');
  const r = sh(`set -e; eval $("$BERTH" machine env m0); docker info --format '{{.Name}}' >/dev/null && echo ok`, { ...other, BERTH: join(process.cwd(), 'bin', 'berth') });
  expect(r.stdout.trim()).toBe('ok');
  expect(berth(['machine', 'import', file], other).code).toBe(1);
});

test('rm removes the machines from the store and leaves the hosts alone', () => {
  const r = berth(['machine', 'rm', '-y', 'm0', 'm1'], env);
  expect(r.code).toBe(0);
  expect(berth(['machine', 'ls', '-q'], env).stdout).toBe('');
  expect(berth(['machine', 'status', 'm0'], env).code).toBe(1);
  expect(sh('docker context ls -q', env).stdout).toBe('default\n');
});
