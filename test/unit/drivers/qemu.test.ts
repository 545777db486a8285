import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseSettings } from '../../../drivers/driver.js';
import { kernelCmdline, qemuArgs, type QemuSpec } from '../../../drivers/qemu/args.js';
import { parseForward, qemuDriver, qmpState } from '../../../drivers/qemu/index.js';
import { metaData, userData, writeSeedIso } from '../../../src/machine/image/seed.js';
import { MachineError } from '../../../src/machine/errors.js';
import { imageFiles } from '../../../src/machine/image/firstboot.js';
import { mirrorFromSources } from '../../../src/machine/image/mirror.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-qemu-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spec: QemuSpec = {
  name: 'vm1', accel: 'kvm:tcg', cpus: 2, memoryMiB: 1024, disk: '/s/machines/vm1/disk.qcow2', diskFormat: 'qcow2', seed: '/s/machines/vm1/seed.iso',
  boot: { kind: 'direct', kernel: '/c/k', initrd: '/c/i', cmdline: 'root=/dev/vda rw' },
  forwards: [{ hostPort: 40022, guestPort: 22 }, { hostPort: 40376, guestPort: 40376 }],
  qmpSocket: '/s/machines/vm1/qmp.sock', pidfile: '/s/machines/vm1/qemu.pid', consoleLog: '/s/machines/vm1/console.log', tscKhz: 2596122,
};

const after = (args: string[], flag: string) => args.filter((_, i) => args[i - 1] === flag);

test('direct boot: microvm, virtio-mmio devices, kernel arguments with the TSC clock, both accelerators in order', () => {
  const a = qemuArgs(spec);
  expect(after(a, '-accel')).toEqual(['kvm', 'tcg']);
  expect(after(a, '-M')).toEqual(['microvm,pit=on,rtc=on,acpi=on']);
  expect(after(a, '-append')).toEqual(['root=/dev/vda rw console=ttyS0 loglevel=4 panic=-1 tsc_early_khz=2596122']);
  expect(after(a, '-device')).toEqual(['virtio-blk-device,drive=disk0', 'virtio-blk-device,drive=seed0', 'virtio-net-device,netdev=net0', 'virtio-rng-device']);
  expect(after(a, '-netdev')).toEqual(['user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:40022-:22,hostfwd=tcp:127.0.0.1:40376-:40376']);
  expect(after(a, '-drive')[1]).toBe('id=seed0,if=none,format=raw,readonly=on,file=/s/machines/vm1/seed.iso');
  expect(after(a, '-qmp')).toEqual(['unix:/s/machines/vm1/qmp.sock,server=on,wait=off']);
  expect(a.slice(-3)).toEqual(['-pidfile', '/s/machines/vm1/qemu.pid', '-daemonize']);
});

test('firmware boot (another image): q35, PCI devices, no kernel; commas in paths are doubled', () => {
  const a = qemuArgs({ ...spec, accel: 'tcg', boot: { kind: 'firmware' }, disk: '/x,y/cloud.img', diskFormat: 'raw', tscKhz: undefined });
  expect(after(a, '-M')).toEqual(['q35']);
  expect(after(a, '-accel')).toEqual(['tcg']);
  expect(a).not.toContain('-kernel');
  expect(after(a, '-device')).toContain('virtio-net-pci,netdev=net0');
  expect(after(a, '-drive')[0]).toBe('id=disk0,if=none,format=raw,file=/x,,y/cloud.img,discard=unmap,cache=writeback');
  expect(kernelCmdline('root=/dev/vda')).toBe('root=/dev/vda console=ttyS0 loglevel=4 panic=-1');
});

test('the seed is a cidata ISO with NoCloud meta-data and a cloud-config user-data carrying the key', async () => {
  const input = { instanceId: 'berth-vm1-x', hostname: 'vm1', sshPublicKey: 'ssh-ed25519 AAAAC3Nza berth-vm1\n' };
  expect(metaData(input)).toBe('instance-id: berth-vm1-x\nlocal-hostname: vm1\n');
  expect(userData(input)).toMatch(/^#cloud-config\nhostname: vm1\ndisable_root: false\n/);
  const iso = join(dir, 'seed.iso');
  await writeSeedIso(iso, input);
  const label = execFileSync('blkid', ['-o', 'value', '-s', 'LABEL', iso], { encoding: 'utf8' }).trim();
  expect(label).toBe('cidata');
  const out = join(dir, 'extract');
  execFileSync('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/', out], { stdio: 'ignore' });
  expect(readFileSync(join(out, 'meta-data'), 'utf8')).toBe(metaData(input));
  expect(readFileSync(join(out, 'user-data'), 'utf8')).toBe(userData(input));
});

test("the first-boot script takes exactly the seed's keys out of user-data", () => {
  const script = imageFiles().find((f) => f.path === '/usr/local/sbin/berth-firstboot')!.content;
  const sed = /sed -n '([^']+)' "\$mnt\/user-data"/.exec(script)![1];
  const ud = join(dir, 'user-data');
  writeFileSync(ud, userData({ instanceId: 'i', hostname: 'h', sshPublicKey: 'ssh-ed25519 AAAAkey c1' }) + '  - ecdsa-sha2-nistp256 BBBB c2\n');
  expect(execFileSync('sed', ['-n', sed, ud], { encoding: 'utf8' })).toBe('ssh-ed25519 AAAAkey c1\necdsa-sha2-nistp256 BBBB c2\n');
  execFileSync('sh', ['-n', '-c', script]);
});

test('flags: bad accelerator, sizes and forwards are refused with a machine error', () => {
  const base = baseSettings('vm1', '/store', '/store/machines/vm1/id_rsa');
  const d = qemuDriver.fromFlags(base, { 'qemu-accel': 'tcg', 'qemu-forward': ['8080:80', '9000:9000'] });
  expect(d.settings).toMatchObject({ QemuAccel: 'tcg', QemuCPUs: 1, QemuMemory: 1024, QemuForwards: ['8080:80', '9000:9000'], SSHUser: 'root', GuestIPAddress: '10.0.2.15' });
  expect(d.connection()).toEqual({ kind: 'ssh', host: '127.0.0.1', port: 0, user: 'root', keyPath: '/store/machines/vm1/id_rsa' });
  expect(() => qemuDriver.fromFlags(base, { 'qemu-accel': 'hvf' })).toThrow(/--qemu-accel "hvf" is not one of kvm:tcg, kvm, tcg/);
  expect(() => qemuDriver.fromFlags(base, { 'qemu-memory': 0 })).toThrow(MachineError);
  expect(() => qemuDriver.fromFlags(base, { 'qemu-forward': ['80'] })).toThrow(/HOSTPORT:GUESTPORT/);
  expect(parseForward('8080:80')).toEqual({ hostPort: 8080, guestPort: 80 });
  expect(() => parseForward('70000:80')).toThrow(MachineError);
});

test('a machine with no pidfile is Stopped; QMP run states map onto machine states', async () => {
  const d = qemuDriver.fromFlags(baseSettings('vm1', dir, join(dir, 'k')), {});
  expect(await d.state({} as never)).toBe('Stopped');
  expect(qmpState('running')).toBe('Running');
  expect(qmpState('paused')).toBe('Paused');
  expect(qmpState('shutdown')).toBe('Stopping');
  expect(qmpState('guest-panicked')).toBe('Error');
});

test("the mirror is the one apt's sources name for a plain release (deb822 or one-line)", () => {
  const deb822 = 'Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n\nTypes: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm bookworm-updates\nComponents: main\n';
  expect(mirrorFromSources([deb822])).toBe('http://mirror.example/debian');
  expect(mirrorFromSources(['deb http://security.example/ bookworm-security main\ndeb [arch=amd64] http://m.example/debian bookworm main\n'])).toBe('http://m.example/debian');
  expect(mirrorFromSources(['Types: deb-src\nURIs: http://x/\nSuites: bookworm\n'])).toBeUndefined();
});
