/**
 * `berth machine` as a drop-in for Docker Machine: scripts run through a
 * `docker-machine` link against a namespace host, with Docker Machine's global flags,
 * MACHINE_* variables, messages and exit codes, Go templates, the none driver, the
 * SWARM column, engine options berthd applies, ssh pass-through and the built-in
 * client, sshfs mounts and shell completion of machine names.
 */
import { jest } from '@jest/globals';
import { existsSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSshHosts, type SshHosts } from '../../fixtures/sshhosts.js';
import { berthBin, removeTempDirs, requireDockerCli, sh, startRegistry, tempDir, type Run } from './helpers.js';

jest.setTimeout(180_000);

let f: SshHosts;
let reg: Awaited<ReturnType<typeof startRegistry>>;
const store = tempDir('berth-dropin-store-');
const links = tempDir('berth-dropin-bin-');
const mnt = tempDir('berth-dropin-mnt-');
// Only Docker Machine's variable names the store; the link comes first on PATH.
const env = () => ({ MACHINE_STORAGE_PATH: store, BERTH_STORAGE_PATH: '', DOCKER_HOST: '', DOCKER_TLS_VERIFY: '', DOCKER_CERT_PATH: '', DOCKER_CONFIG: tempDir('berth-dropin-docker-'),
  PATH: `${links}:${process.env.PATH}`, IP: f.hosts[0].ip, KEY: f.keyPath, IMG: reg.image });
const dm = (script: string, extra: NodeJS.ProcessEnv = {}): Run => sh(script, { ...env(), ...extra });
const machines = () => readdirSync(join(store, 'machines'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

beforeAll(async () => {
  requireDockerCli();
  symlinkSync(berthBin(), join(links, 'docker-machine'));
  f = await startSshHosts(1);
  reg = await startRegistry(f.subnet.replace(/\.0\/24$/, '.1'));
});
afterAll(() => {
  sh(`fusermount -u ${mnt} 2>/dev/null; true`);
  reg?.stop();
  f?.cleanup();
  removeTempDirs();
});

test('a docker-machine script: create from MACHINE_* and GENERIC_* variables, engine options berthd applies, env, ip, url, inspect', () => {
  const r = dm(`set -e
    MACHINE_DRIVER=generic GENERIC_IP_ADDRESS=$IP GENERIC_SSH_KEY=$KEY docker-machine -s "$MACHINE_STORAGE_PATH" create \\
      --engine-insecure-registry ${reg.host} --engine-opt dns=10.9.8.7 --engine-opt mtu=1400 --engine-opt default-ulimit=nofile=1234:2345 \\
      --engine-opt log-opt=max-size=1m --engine-storage-driver overlay dm1 >/dev/null
    eval "$(docker-machine env dm1)"
    docker pull -q $IMG >/dev/null
    docker run --rm --name c1 $IMG sh -c 'grep nameserver /etc/resolv.conf; ulimit -n'
    docker network inspect bridge --format '{{index .Options "com.docker.network.driver.mtu"}}'
    docker create --name c2 $IMG true >/dev/null
    docker inspect --format '{{json .HostConfig.LogConfig}}' c2
    docker rm c2 >/dev/null
    docker-machine ip dm1
    docker-machine url dm1
    docker-machine inspect --format '{{.Driver.IPAddress}} {{json .HostOptions.EngineOptions.StorageDriver}} {{len .HostOptions.EngineOptions.ArbitraryFlags}}' dm1`);
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe(`nameserver 10.9.8.7\n1234\n1400\n{"Type":"json-file","Config":{"max-size":"1m"}}\n${f.hosts[0].ip}\ntcp://${f.hosts[0].ip}:2376\n${f.hosts[0].ip} "overlay" 4\n`);
  expect(r.code).toBe(0);
});

test('help CMD, -h, --version, -D and the global -s before the subcommand', () => {
  for (const cmd of ['docker-machine help ls', 'docker-machine ls -h', 'docker-machine -h']) {
    const r = dm(cmd);
    expect({ cmd, code: r.code }).toEqual({ cmd, code: 0 });
    expect(r.stdout).toMatch(cmd.endsWith('-h') && !cmd.includes('ls') ? /COMMANDS/ : /List machines/);
  }
  expect(dm('docker-machine --version').stdout).toMatch(/^berth machine version \S+\n$/);
  const debug = dm('docker-machine -D inspect ghost');
  expect(debug.code).toBe(1);
  expect(debug.stderr).toMatch(/^\(debug\) MachineNotFoundError: Host does not exist: "ghost"\n\s+at /);
  expect(debug.stderr).toMatch(/\nError: Host does not exist: "ghost"\n/);
  const other = tempDir('berth-dropin-other-');
  expect(dm(`docker-machine -s ${other} ls -q; docker-machine --storage-path=${other} ls -q; docker-machine ls -q`).stdout).toBe('dm1\n');
});

test('exit codes and messages as Docker Machine', () => {
  const cases: [string, number, RegExp][] = [
    ['docker-machine start dm1', 1, /^Error: Machine "dm1" is already running\.\n$/],
    ['docker-machine env -u dm1', 1, /^Error: Expected no machine name when the -u flag is present\n/],
    ['docker-machine create -d generic --generic-ip-address $IP --generic-ssh-key $KEY dm1', 1, /^Error: Host already exists: "dm1"\n/],
    ['docker-machine inspect ghost', 1, /^Error: Host does not exist: "ghost"\n/],
    ['docker-machine ls --format "{{.Nope}}"', 1, /can't evaluate field Nope/],
    ['docker-machine ls --format "{{nofunc .Name}}"', 1, /function "nofunc" not defined/],
    ['docker-machine create -d generic --generic-ip-address $IP --generic-ssh-key $KEY --engine-opt log-driver=syslog dmx', 2,
      /^Error: --engine-opt: berthd refuses it: --log-driver syslog: berthd supports json-file and none\n/],
  ];
  for (const [cmd, code, message] of cases) {
    const r = dm(cmd);
    expect({ cmd, code: r.code }).toEqual({ cmd, code });
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }
  expect(dm('docker-machine env -u').stdout).toMatch(/^unset DOCKER_TLS_VERIFY\n/);
  expect(machines()).toEqual(['dm1']);
});

test('rm and regenerate-certs read their confirmation from a pipe', () => {
  const no = dm('echo n | docker-machine rm dm1');
  expect(no.code).toBe(0);
  expect(no.stdout).toBe('About to remove dm1\nWARNING: This action will delete both local reference and remote instance.\nAre you sure? (y/n): ');
  expect(machines()).toEqual(['dm1']);
  const cert = () => readFileSync(join(store, 'machines', 'dm1', 'server.pem'), 'utf8');
  const before = cert();
  expect(dm('echo n | docker-machine regenerate-certs dm1').stdout).toBe('Regenerate TLS machine certs?  Warning: this is irreversible. (y/n): ');
  expect(cert()).toBe(before);
  const yes = dm('echo y | docker-machine regenerate-certs dm1');
  expect(yes.code).toBe(0);
  expect(cert()).not.toBe(before);
  expect(dm('docker-machine rm dm1 </dev/null').stderr).toMatch(/no answer on stdin to the confirmation/);
});

test('ls: Go templates (table, json, functions, range) and the columns Docker Machine prints', () => {
  const table = dm('DOCKER_HOST=tcp://$IP:2376 docker-machine ls');
  const [head, row] = table.stdout.split('\n');
  expect(head).toMatch(/^NAME   ACTIVE   DRIVER    STATE     URL\s+SWARM   DOCKER\s+ERRORS$/);
  expect(row).toMatch(new RegExp(`^dm1    \\*        generic   Running   tcp://${f.hosts[0].ip.replace(/\./g, '\\.')}:2376           v\\S+ +$`));
  expect(dm('docker-machine ls --format "table {{.Name}}\\t{{.DriverName | upper}}"').stdout).toBe('NAME   DRIVER\ndm1    GENERIC\n');
  const json = JSON.parse(dm('docker-machine ls --format "{{json .}}"').stdout);
  expect(json).toMatchObject({ Name: 'dm1', State: 1, DriverName: 'generic', Swarm: '', EngineOptions: { StorageDriver: 'overlay' } });
  expect(typeof json.ResponseTime).toBe('number');
  expect(dm('docker-machine ls --format "{{if eq .State \\"Running\\"}}{{.Name}} up{{end}} {{range .EngineOptions.ArbitraryFlags}}{{.}},{{end}} {{join (split .URL \\":\\") \\"|\\"}}"').stdout)
    .toBe(`dm1 up dns=10.9.8.7,mtu=1400,default-ulimit=nofile=1234:2345,log-opt=max-size=1m, tcp|//${f.hosts[0].ip}|2376\n`);
});

test('the none driver registers an existing engine; the SWARM column and --filter swarm= read swarm options', () => {
  const r = dm('docker-machine create -d none --url tcp://$IP:2376 ext && eval "$(docker-machine env ext)" && docker info --format "{{.ID}}" >/dev/null && echo reached');
  expect(r.stdout).toMatch(/reached\n$/);
  expect(dm('docker-machine ls --filter driver=none --format "{{.Name}} {{.State}} {{.URL}}"').stdout).toBe(`ext Running tcp://${f.hosts[0].ip}:2376\n`);
  const stop = dm('docker-machine stop ext');
  expect(stop.code).toBe(1);
  expect(stop.stderr).toMatch(/^Error: hosts without a driver cannot be stopped\n/);
  expect(dm('docker-machine ssh ext true').stderr).toMatch(/has no driver \(none\): berth cannot SSH into it/);
  // A store carried over from Docker Machine with a swarm: a master and a node of one discovery.
  for (const [name, master] of [['sw-master', true], ['sw-node', false]] as const) {
    expect(dm(`docker-machine create -d none --url tcp://$IP:2376 ${name}`).code).toBe(0);
    const p = join(store, 'machines', name, 'config.json');
    const c = JSON.parse(readFileSync(p, 'utf8'));
    c.HostOptions.SwarmOptions = { IsSwarm: true, Master: master, Discovery: 'token://abc', Host: 'tcp://0.0.0.0:3376' };
    writeFileSync(p, JSON.stringify(c));
  }
  expect(dm('docker-machine ls --filter swarm=SW-MASTER --format "{{.Name}}={{.Swarm}}"').stdout).toBe('sw-master=sw-master (master)\nsw-node=sw-master\n');
  expect(dm('docker-machine ls').stdout.split('\n').find((l) => l.startsWith('sw-node'))).toMatch(/ Running\s+tcp:\S+\s+sw-master\s+v/);
  expect(dm('docker-machine rm -y ext sw-master sw-node').code).toBe(0);
  expect(dm('eval "$(docker-machine env dm1)" && docker info --format "{{.ID}}" >/dev/null && echo still').stdout).toBe('still\n');
});

test('ssh: OpenSSH options pass through; --native-ssh and MACHINE_NATIVE_SSH use the built-in client', () => {
  const external = dm('docker-machine ssh dm1 -o BatchMode=yes -C "echo external; exit 3"');
  expect({ code: external.code, out: external.stdout }).toEqual({ code: 3, out: 'external\n' });
  // The built-in client runs the words as the remote command, as Docker Machine's native client does.
  const native = dm('docker-machine --native-ssh ssh dm1 "echo native; exit 4"');
  expect({ code: native.code, out: native.stdout }).toEqual({ code: 4, out: 'native\n' });
  // OpenSSH takes -o as its option; the built-in client hands it to the remote shell, which refuses it.
  expect(dm('docker-machine ssh dm1 -o BatchMode=yes true').code).toBe(0);
  const byEnv = dm('MACHINE_NATIVE_SSH=1 docker-machine ssh dm1 -o BatchMode=yes true');
  expect(byEnv.code).not.toBe(0);
  expect(byEnv.stderr).toMatch(/-o/);
});

test('mount and unmount a machine directory with sshfs; a clear error without sshfs', () => {
  const r = dm(`docker-machine mount dm1:/etc ${mnt} && grep -c ^root: ${mnt}/passwd && docker-machine mount -u dm1:/etc ${mnt} && ls ${mnt} | wc -l`);
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('1\n0\n');
  const bin = tempDir('berth-dropin-nosshfs-');
  symlinkSync(process.execPath, join(bin, 'node'));
  const missing = dm(`PATH=${bin} ${berthBin()} machine mount dm1:/etc ${mnt}`);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toBe('Error: sshfs is not installed: machine mount needs it\nHint: install it (apt-get install sshfs)\n');
});

test('completion of subcommands and machine names in bash, zsh and fish', () => {
  const script = (shell: string) => {
    const p = join(tempDir('berth-dropin-compl-'), `c.${shell}`);
    writeFileSync(p, dm(`docker-machine completion ${shell}`).stdout);
    return p;
  };
  const bash = dm(`source ${script('bash')}
    COMP_WORDS=(docker-machine sta); COMP_CWORD=1; _berth_machine; echo "\${COMPREPLY[*]}"
    COMP_WORDS=(berth machine start ""); COMP_CWORD=3; _berth; echo "\${COMPREPLY[*]}"
    COMP_WORDS=(docker-machine scp d); COMP_CWORD=2; _berth_machine; echo "\${COMPREPLY[*]}"`);
  expect(bash.stdout).toBe('start status\ndm1\ndm1:\n');
  const fish = dm(`fish -c 'source ${script('fish')}; complete -C "docker-machine ip "; complete -C "berth machine mount d"'`);
  expect(fish.stdout).toBe('dm1\ndm1:\n');
  const zshDriver = join(tempDir('berth-dropin-zpty-'), 'drive.zsh');
  writeFileSync(zshDriver, `zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z 'PS1=">"; autoload -U compinit; compinit -u -D; source ${script('zsh')}'
zpty -w z $'docker-machine env \\t'
zpty -r z out '*env dm1*'
print -r -- "$out" | grep -c 'env dm1'
zpty -d z
`);
  expect(dm(`timeout 30 zsh -f ${zshDriver}`).stdout).toBe('1\n');
});

test('a machine that stops answering: url, ip and env fail with Docker Machine\'s messages', () => {
  f.hosts[0].kill();
  for (const [cmd, message] of [['url', /^Error: Host is not running\n/], ['ip', /^Error: Host is not running\n/], ['env', /^Error: Error checking TLS connection: Host is not running\n/]] as const) {
    const r = dm(`docker-machine ${cmd} dm1`);
    expect({ cmd, code: r.code }).toEqual({ cmd, code: 1 });
    expect(r.stderr).toMatch(message);
  }
  expect(existsSync(join(store, 'machines', 'dm1'))).toBe(true);
});
