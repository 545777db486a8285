/**
 * Crash safety: kill -9 of berthd while containers run, while one starts and while
 * one is committed. After a restart every container is in a true state (what the
 * kernel and the runtime say), metadata parses, and no temp file is left.
 */
import { jest } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, type Daemon } from '../fixtures/daemon.js';
import { runtimePath } from '../../src/common/paths.js';
import { daemonWithBusybox, docker, ok, waitFor } from './containers/fixture.js';
import { monitors } from '../reliability/invariants.js';

jest.setTimeout(90_000);

let d: Daemon;
const bases = new Set<string>();

beforeAll(async () => {
  d = await daemonWithBusybox({ keep: true });
  bases.add(join(d.dataRoot, '..'));
});

afterAll(async () => {
  if (d) {
    const ids = (await ok(d, ['ps', '-aq'])).split('\n').filter(Boolean);
    if (ids.length) await docker(d, ['rm', '-f', ...ids]);
    await d.stop();
  }
  for (const b of bases) rmSync(b, { recursive: true, force: true });
});

async function killAndRestart(): Promise<void> {
  const old = d;
  process.kill(old.pid, 'SIGKILL');
  await new Promise<void>((r) => (old.process.exitCode !== null || old.process.signalCode !== null ? r() : old.process.once('exit', () => r())));
  d = await startDaemon({ dataRoot: old.dataRoot, execRoot: old.execRoot, keep: true });
  bases.add(join(d.env.DOCKER_CONFIG, '..'));
}

function runtimeState(id: string): { status: string; pid: number } | null {
  try {
    return JSON.parse(execFileSync(runtimePath(), ['--root', join(d.execRoot, 'runtime'), 'state', id], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  } catch {
    return null;
  }
}

const alive = (pid: number) => pid > 0 && existsSync(`/proc/${pid}`);

/** Every container agrees with the runtime and the kernel; every record parses; no temp files. */
async function assertTrueStates(): Promise<void> {
  const dir = join(d.dataRoot, 'containers');
  for (const id of readdirSync(dir)) {
    const files = readdirSync(join(dir, id));
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    JSON.parse(readFileSync(join(dir, id, 'container.json'), 'utf8'));
    const [status, pid] = (await ok(d, ['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', id])).split(' ');
    const rt = runtimeState(id);
    if (status === 'running' || status === 'paused') {
      expect([id, rt?.status]).toEqual([id, status]);
      expect(alive(Number(pid))).toBe(true);
    } else {
      expect([id, status, rt === null || rt.status === 'stopped']).toEqual([id, status, true]);
    }
  }
}

test('kill -9 while containers run: they are re-adopted; one that exited meanwhile has its status and logs', async () => {
  const running = await ok(d, ['run', '-d', '--name', 'crash-run', 'busybox', 'sleep', '300']);
  const pid = await ok(d, ['inspect', '-f', '{{.State.Pid}}', running]);
  const exiting = await ok(d, ['run', '-d', '--name', 'crash-exit', 'busybox', 'sh', '-c', 'sleep 1; echo bye; exit 42']);
  await ok(d, ['pause', 'crash-run']);
  await killAndRestart();
  expect(await ok(d, ['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', running])).toBe(`paused ${pid}`);
  await ok(d, ['unpause', 'crash-run']);
  await waitFor('the exit seen by the new engine', async () => (await ok(d, ['inspect', '-f', '{{.State.Status}}', exiting])) === 'exited');
  expect(await ok(d, ['inspect', '-f', '{{.State.ExitCode}}', exiting])).toBe('42');
  expect(await ok(d, ['logs', exiting])).toBe('bye');
  await assertTrueStates();
});

test('kill -9 while a container starts: after the restart it is either running or startable', async () => {
  for (let round = 0; round < 3; round++) {
    const id = await ok(d, ['create', '--name', `crash-start-${round}`, 'busybox', 'sleep', '300']);
    const start = docker(d, ['start', id]);
    // Kill at a different point each round: before, around and after the runtime call.
    const bundle = join(d.execRoot, 'bundles', id, 'config.json');
    if (round > 0) await waitFor('the bundle', async () => existsSync(bundle), 5000).catch(() => undefined);
    if (round > 1) await new Promise((r) => setTimeout(r, 15));
    await killAndRestart();
    await start;
    await assertTrueStates();
    const status = await ok(d, ['inspect', '-f', '{{.State.Status}}', id]);
    if (status !== 'running') await ok(d, ['start', id]);
    expect(await ok(d, ['inspect', '-f', '{{.State.Running}}', id])).toBe('true');
    await ok(d, ['rm', '-f', id]);
  }
});

test('kill -9 during a commit: no half image, the container is running (not left frozen)', async () => {
  const id = await ok(d, ['run', '-d', '--name', 'crash-commit', 'busybox', 'sh', '-c', 'dd if=/dev/urandom of=/big bs=1M count=24 2>/dev/null; echo marker > /marker; sleep 300']);
  await waitFor('the big file', async () => (await docker(d, ['exec', id, 'cat', '/marker'])).stdout.includes('marker'));
  const commit = docker(d, ['commit', id, 'crashed:commit']);
  await new Promise((r) => setTimeout(r, 150));
  await killAndRestart();
  await commit;
  await assertTrueStates();
  expect(await ok(d, ['inspect', '-f', '{{.State.Status}}', id])).toBe('running');
  const images = await ok(d, ['images', '--format', '{{.Repository}}:{{.Tag}}']);
  if (images.includes('crashed:commit')) {
    expect(await ok(d, ['run', '--rm', 'crashed:commit', 'cat', '/marker'])).toBe('marker');
  }
  // A commit after the restart works and carries the layer.
  await ok(d, ['commit', id, 'crashed:again']);
  expect(await ok(d, ['run', '--rm', 'crashed:again', 'cat', '/marker'])).toBe('marker');
});

/**
 * A running container, then kill -9 of berthd and the files a remove cut short had
 * already deleted (record, bundle, snapshot, and with `runtimeStateToo` the runtime's
 * state), then a restart. Returns the container's id and its monitor's pid.
 */
async function removeCutShort(runtimeStateToo: boolean): Promise<{ id: string; mon: number }> {
  const id = await ok(d, ['run', '-d', 'busybox', 'sleep', '1000']);
  const mon = monitors(d).get(id)!;
  expect(mon).toBeGreaterThan(0);
  process.kill(d.pid, 'SIGKILL');
  await new Promise<void>((r) => (d.process.exitCode !== null || d.process.signalCode !== null ? r() : d.process.once('exit', () => r())));
  const bundle = join(d.execRoot, 'bundles', id);
  spawnSync('umount', ['-R', join(bundle, 'rootfs')]);
  const gone = [bundle, join(d.dataRoot, 'containers', id), join(d.dataRoot, 'snapshots', id), ...(runtimeStateToo ? [join(d.execRoot, 'runtime', id)] : [])];
  for (const p of gone) rmSync(p, { recursive: true, force: true });
  expect(runtimeState(id) !== null).toBe(!runtimeStateToo);
  const old = d;
  d = await startDaemon({ dataRoot: old.dataRoot, execRoot: old.execRoot, keep: true });
  bases.add(join(d.env.DOCKER_CONFIG, '..'));
  return { id, mon };
}

const monitorEnded = (mon: number) => waitFor('the monitor to end', async () => !alive(mon) || (readFileSync(`/proc/${mon}/stat`, 'utf8').includes(') Z') ? true : undefined));

test('kill -9 during a create that had written the record but not yet the snapshot: the create is undone at the restart', async () => {
  const cut = await ok(d, ['create', '--name', 'crash-create', 'busybox', 'true']);
  const kept = await ok(d, ['create', '--name', 'crash-create-kept', 'busybox', 'true']);
  // create writes the two together: the state a kill between the two fsyncs leaves.
  const old = d;
  process.kill(old.pid, 'SIGKILL');
  await new Promise<void>((r) => (old.process.exitCode !== null || old.process.signalCode !== null ? r() : old.process.once('exit', () => r())));
  rmSync(join(d.dataRoot, 'snapshots', cut), { recursive: true, force: true });
  d = await startDaemon({ dataRoot: old.dataRoot, execRoot: old.execRoot, keep: true });
  bases.add(join(d.env.DOCKER_CONFIG, '..'));
  expect((await docker(d, ['inspect', cut])).code).not.toBe(0);
  expect(existsSync(join(d.dataRoot, 'containers', cut))).toBe(false);
  await assertTrueStates();
  await ok(d, ['start', kept]);
  const again = await ok(d, ['create', '--name', 'crash-create', 'busybox', 'true']);
  await ok(d, ['rm', '-f', again, kept]);
});

test('kill -9 in the middle of a remove: a container whose record, bundle and snapshot are gone is stopped with its monitor at the restart', async () => {
  const { id, mon } = await removeCutShort(false);
  expect(runtimeState(id)).toBeNull();
  await monitorEnded(mon); // it ends once its container is killed
});

test('kill -9 after a remove took the runtime state too: the monitor left behind is ended at the restart', async () => {
  const { id, mon } = await removeCutShort(true);
  await monitorEnded(mon);
  expect(monitors(d).has(id)).toBe(false);
});
