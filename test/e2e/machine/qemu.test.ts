/**
 * Slow tier: a real VM. `machine image build` (cached between local runs in
 * BERTH_TEST_IMAGE_DIR, default /var/tmp/berth-test-images; built from scratch in CI),
 * then `create -d qemu` under TCG (this machine's /dev/kvm cannot boot a stock
 * kernel), provisioning with the engine under systemd, env + the real docker CLI
 * running a published container reached through a forwarded 127.0.0.1 port, stop and
 * start with the container's restart policy honoured, a dead qemu shown as Error, rm.
 * One VM; every wait is bounded by the jest timeout.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../../drivers/dial.js';
import { writeBusyboxArchive } from './busybox-archive.js';
import { berth, berthAsync, requireDockerCli, sh, tempDir, removeTempDirs } from './helpers.js';

import { jest } from '@jest/globals';

jest.setTimeout(15 * 60_000);

const imageDir = process.env.BERTH_TEST_IMAGE_DIR || '/var/tmp/berth-test-images';
const qcow2 = join(imageDir, 'debian-bookworm.qcow2');
const store = tempDir('berth-qemu-store-');
const env = {
  BERTH_STORAGE_PATH: store, DOCKER_CONFIG: tempDir('berth-docker-config-'), DOCKER_HOST: '', DOCKER_TLS_VERIFY: '', DOCKER_CERT_PATH: '',
  // Emulation on a shared 2-core machine: generous bounds for boot and engine start.
  BERTH_QEMU_BOOT_TIMEOUT: '600', BERTH_ENGINE_TIMEOUT: '300', BERTH: join(process.cwd(), 'bin', 'berth'),
};
const name = `q${process.pid}`;
const vmDir = join(store, 'machines', name);
let webPort = 0;

beforeAll(() => requireDockerCli());
afterAll(async () => {
  // A test that failed half-way must not leave a VM running.
  const pid = existsSync(join(vmDir, 'qemu.pid')) ? Number(readFileSync(join(vmDir, 'qemu.pid'), 'utf8').trim()) : 0;
  if (pid) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  removeTempDirs();
}, 60_000);

const inEnv = (script: string) => sh(`set -e; eval "$("$BERTH" machine env ${name})"; ${script}`, env);
const web = () => sh(`for i in $(seq 1 60); do curl -sf --max-time 5 http://127.0.0.1:${webPort}/hostname && exit 0; sleep 2; done; exit 1`);

test('without an image, create -d qemu says how to build one, before making anything', () => {
  const r = berth(['machine', 'create', '-d', 'qemu', 'noimage'], env);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/no VM image in .*\nHint: build it once with `berth machine image build`/);
  const bin = berth(['machine', 'create', '-d', 'qemu', '--qemu-binary', '/nonexistent/qemu', 'nobin'], env);
  expect(bin.code).toBe(2);
  expect(bin.stderr).toMatch(/the QEMU binary "\/nonexistent\/qemu" is not installed/);
  expect(existsSync(join(store, 'machines', 'noimage'))).toBe(false);
});

test('image build makes the image (or finds it cached); image ls lists it', async () => {
  const r = await berthAsync(['machine', 'image', 'build', '--output', imageDir], env);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  expect(r.stdout).toMatch(/(Built|Cached) debian-bookworm: /);
  const again = await berthAsync(['machine', 'image', 'build', '--output', imageDir], env);
  expect(again.stdout).toMatch(/^Cached debian-bookworm: /m);
  expect(berth(['machine', 'image', 'ls', '-q', '--output', imageDir], env).stdout).toBe('debian-bookworm\n');
});

test('create -d qemu boots the image under TCG and provisions the engine', async () => {
  webPort = await freePort();
  const r = await berthAsync(['machine', 'create', '-d', 'qemu', '--qemu-accel', 'tcg', '--qemu-image', qcow2, '--qemu-forward', `${webPort}:8080`, name], env);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  const cfg = JSON.parse(readFileSync(join(vmDir, 'config.json'), 'utf8'));
  expect(cfg.Driver).toMatchObject({ QemuAccelUsed: 'tcg', IPAddress: '127.0.0.1', GuestIPAddress: '10.0.2.15' });
  const ls = berth(['machine', 'ls', '--format', '{{.State}} {{.URL}}'], env);
  expect(ls.stdout).toBe(`Running tcp://127.0.0.1:${cfg.Driver.EnginePort}\n`);
  const sans = sh(`openssl x509 -noout -ext subjectAltName -in ${vmDir}/server.pem`).stdout;
  expect(sans).toContain('IP Address:127.0.0.1');
  expect(sans).toContain('IP Address:10.0.2.15');
  // The engine runs under systemd, from the unit provisioning wrote.
  expect(berth(['machine', 'ssh', name, 'systemctl is-active berthd; hostname'], env).stdout).toBe(`active\n${name}\n`);
});

test('the real docker CLI loads busybox and runs a published container, reached on 127.0.0.1 through the forward', async () => {
  const archive = join(tempDir('berth-qemu-busybox-'), 'busybox.tar');
  await writeBusyboxArchive(archive);
  const r = inEnv(`docker load -q -i ${archive} >/dev/null; docker run -d --name web --restart always -p 8080:8080 busybox /bin/busybox httpd -f -p 8080 -h /etc >/dev/null; docker inspect -f '{{.Name}} {{json .HostConfig.PortBindings}}' web`);
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('/web {"8080/tcp":[{"HostIp":"","HostPort":"8080"}]}\n');
  const page = web();
  expect(page.code).toBe(0);
  expect(page.stdout.trim()).toMatch(/^[0-9a-f]{12}$/);
});

test('stop powers the VM off; start boots it again and the restart policy brings the container back', async () => {
  const stop = await berthAsync(['machine', 'stop', name], env);
  expect({ code: stop.code, stderr: stop.stderr }).toEqual({ code: 0, stderr: '' });
  expect(berth(['machine', 'status', name], env).stdout).toBe('Stopped\n');
  expect(existsSync(join(vmDir, 'qemu.pid'))).toBe(false);
  const start = await berthAsync(['machine', 'start', name], env);
  expect({ code: start.code, stderr: start.stderr }).toEqual({ code: 0, stderr: '' });
  expect(web().code).toBe(0);
  expect(inEnv(`docker inspect -f '{{.State.Running}} {{.HostConfig.RestartPolicy.Name}}' web`).stdout).toBe('true always\n');
});

test('a qemu that died shows as Error; rm removes the VM and its files', async () => {
  const pid = Number(readFileSync(join(vmDir, 'qemu.pid'), 'utf8').trim());
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 50 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 100));
  expect(berth(['machine', 'ls', '--format', '{{.Name}} {{.State}}'], env).stdout).toBe(`${name} Error\n`);
  const rm = await berthAsync(['machine', 'rm', '-y', name], env);
  expect({ code: rm.code, stderr: rm.stderr }).toEqual({ code: 0, stderr: '' });
  expect(existsSync(vmDir)).toBe(false);
  expect(berth(['machine', 'ls', '-q'], env).stdout).toBe('');
});
