/**
 * The QMP client against a real QEMU with no machine (-M none: nothing to boot, ready
 * in a moment): the handshake, query-status, query-kvm, an error answer, and quit.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Qmp, QmpError, withQmp } from '../../../drivers/qemu/qmp.js';
import { pidAlive, readPid } from '../../../drivers/qemu/process.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-qmp-'));
const sock = join(dir, 'qmp.sock');
const pidfile = join(dir, 'qemu.pid');
let pid = 0;

beforeAll(async () => {
  if (!existsSync('/usr/bin/qemu-system-x86_64')) throw new Error('this test needs qemu-system-x86_64: apt-get install qemu-system-x86');
  const p = spawn('qemu-system-x86_64', ['-M', 'none', '-nodefaults', '-display', 'none', '-S', '-qmp', `unix:${sock},server=on,wait=off`, '-pidfile', pidfile, '-daemonize'], { stdio: 'inherit' });
  await new Promise((r) => p.on('close', r));
  pid = await readPid(pidfile);
});
afterAll(() => {
  if (pid) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  rmSync(dir, { recursive: true, force: true });
});

test('status of a VM started paused (-S), then running after cont', async () => {
  expect(await pidAlive(pid)).toBe(true);
  await withQmp(sock, async (q) => {
    expect(await q.status()).toMatchObject({ status: 'prelaunch', running: false });
    expect(typeof (await q.kvmEnabled())).toBe('boolean');
    await q.execute('cont');
    expect((await q.status()).running).toBe(true);
  });
});

test('an error answer rejects with the command and QEMU\'s reason; the connection stays usable', async () => {
  await withQmp(sock, async (q) => {
    await expect(q.execute('no-such-command')).rejects.toThrow(/QMP no-such-command: .*not been found/i);
    expect((await q.status()).status).toBe('running');
  });
});

test('quit ends QEMU, which removes its pidfile; a later connection fails with QmpError', async () => {
  await withQmp(sock, (q) => q.quit());
  for (let i = 0; i < 100 && (await pidAlive(pid)); i++) await new Promise((r) => setTimeout(r, 50));
  expect(await pidAlive(pid)).toBe(false);
  expect(existsSync(pidfile)).toBe(false);
  await expect(Qmp.connect(sock, 1000)).rejects.toBeInstanceOf(QmpError);
  pid = 0;
});
