/**
 * kill -9 of a container's monitor (berth-runtime's per-container supervisor) while
 * the container runs: the engine reports the true state afterwards, and the
 * container can be stopped and removed without leaking its processes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { api, startDaemon, type Daemon } from '../fixtures/daemon.js';
import { buildImage, dockerArchive } from '../fixtures/images.js';
import { checkInvariants, monitors } from './invariants.js';

let d: Daemon;
const IMAGE = 'mon/busybox:latest';
beforeAll(async () => {
  d = await startDaemon();
  await api(d, 'POST', '/images/load?quiet=1', await dockerArchive([{ image: await buildImage(), repoTags: [IMAGE] }]));
}, 60_000);
afterAll(async () => { await d?.stop(); });

test('after its monitor is killed, a running container is reported truly and can be removed', async () => {
  const c = await api(d, 'POST', '/containers/create', { Image: IMAGE, Cmd: ['sleep', '1000'] });
  expect((await api(d, 'POST', `/containers/${c.json.Id}/start`)).status).toBe(204);
  const pid = (await api(d, 'GET', `/containers/${c.json.Id}/json`)).json.State.Pid as number;
  const mon = monitors(d).get(c.json.Id);
  expect(mon).toBeGreaterThan(0);
  process.kill(mon!, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 500));
  const st = (await api(d, 'GET', `/containers/${c.json.Id}/json`)).json.State;
  // The container's process outlives its monitor (nothing signals it), and the engine
  // still reports it running: a monitor crash must not lose or misreport the container.
  expect(existsSync(`/proc/${pid}`)).toBe(true);
  expect(st).toMatchObject({ Running: true, Status: 'running', Pid: pid });
  const rm = await api(d, 'DELETE', `/containers/${c.json.Id}?force=1`);
  expect(rm.status).toBe(204);
  expect(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z')).toBe(false);
  expect(await checkInvariants(d, { logs: new Map(), containers: new Set([c.json.Id]) })).toEqual([]);
}, 60_000);

test('a container whose monitor was killed and whose process then ends is reported exited', async () => {
  const c = await api(d, 'POST', '/containers/create', { Image: IMAGE, Cmd: ['sleep', '1000'] });
  expect((await api(d, 'POST', `/containers/${c.json.Id}/start`)).status).toBe(204);
  const pid = (await api(d, 'GET', `/containers/${c.json.Id}/json`)).json.State.Pid as number;
  process.kill(monitors(d).get(c.json.Id)!, 'SIGKILL');
  process.kill(pid, 'SIGKILL');
  let st: { Running: boolean; Status: string } = { Running: true, Status: '' };
  for (let i = 0; i < 100 && st.Running; i++) {
    await new Promise((r) => setTimeout(r, 100));
    st = (await api(d, 'GET', `/containers/${c.json.Id}/json`)).json.State;
  }
  expect(st.Status).toBe('exited');
  expect((await api(d, 'DELETE', `/containers/${c.json.Id}?force=1`)).status).toBe(204);
  expect(await checkInvariants(d, { logs: new Map(), containers: new Set([c.json.Id]) })).toEqual([]);
}, 60_000);
