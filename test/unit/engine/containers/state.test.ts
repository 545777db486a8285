import { ConflictError } from '../../../../engine/errors.js';
import { dockerState, initialState, transition, type ContainerState } from '../../../../engine/containers/state.js';
import { Backoff, shouldRestart } from '../../../../engine/containers/restart-policy.js';
import { parseBind, parseMounts, parseTmpfs } from '../../../../engine/containers/mounts.js';
import { normalizeName, randomName } from '../../../../engine/containers/names.js';
import type { ContainerRecord } from '../../../../engine/containers/record.js';

const ID = 'a'.repeat(64);
const at = '2026-01-01T00:00:00.000Z';

describe('container state transitions', () => {
  test('created -> running -> paused -> running -> exited -> running', () => {
    let s: ContainerState = initialState();
    s = transition(ID, s, { type: 'start', pid: 10, at });
    expect(s).toMatchObject({ status: 'running', pid: 10, startedAt: at });
    s = transition(ID, s, { type: 'pause' });
    expect(dockerState(s)).toMatchObject({ Status: 'paused', Running: true, Paused: true, Pid: 10 });
    s = transition(ID, s, { type: 'unpause' });
    s = transition(ID, s, { type: 'exit', exitCode: 137, oomKilled: true, at });
    expect(dockerState(s)).toMatchObject({ Status: 'exited', Running: false, ExitCode: 137, OOMKilled: true, Pid: 0, FinishedAt: at });
    s = transition(ID, s, { type: 'start', pid: 11, at });
    expect(s.status).toBe('running');
  });

  test('illegal steps fail plainly with a conflict', () => {
    expect(() => transition(ID, initialState(), { type: 'pause' })).toThrow(ConflictError);
    expect(() => transition(ID, initialState(), { type: 'pause' })).toThrow(/is not running/);
    const running = transition(ID, initialState(), { type: 'start', pid: 1, at });
    expect(() => transition(ID, running, { type: 'start', pid: 2, at })).toThrow(/cannot start container aaaaaaaaaaaa: it is running/);
    expect(() => transition(ID, running, { type: 'remove' })).toThrow(ConflictError);
    expect(() => transition(ID, initialState(), { type: 'exit', exitCode: 0, oomKilled: false, at })).toThrow(ConflictError);
  });
});

describe('restart policies', () => {
  const rec = (name: string, max = 0, restartCount = 0, manuallyStopped = false) =>
    ({ hostConfig: { RestartPolicy: { Name: name, MaximumRetryCount: max } }, restartCount, manuallyStopped }) as unknown as ContainerRecord;

  test('docker semantics', () => {
    expect(shouldRestart(rec('no'), 1)).toBe(false);
    expect(shouldRestart(rec('always'), 0)).toBe(true);
    expect(shouldRestart(rec('always', 0, 0, true), 0)).toBe(false);
    expect(shouldRestart(rec('unless-stopped'), 0)).toBe(true);
    expect(shouldRestart(rec('on-failure'), 0)).toBe(false);
    expect(shouldRestart(rec('on-failure', 2, 1), 1)).toBe(true);
    expect(shouldRestart(rec('on-failure', 2, 2), 1)).toBe(false);
  });

  test('back-off doubles from 100 ms to a minute and resets after 10 s of running', () => {
    const b = new Backoff();
    const delays = Array.from({ length: 12 }, () => b.next('x', 0));
    expect(delays.slice(0, 4)).toEqual([100, 200, 400, 800]);
    expect(delays[11]).toBe(60_000);
    expect(b.next('x', 10_000)).toBe(100);
  });
});

describe('mount and name parsing', () => {
  test('binds, volumes and tmpfs', () => {
    expect(parseBind('/src:/dst:ro')).toEqual({ type: 'bind', source: '/src', target: '/dst', readOnly: true, options: ['rbind', 'rprivate'] });
    expect(parseBind('data:/var/lib/x')).toMatchObject({ type: 'volume', name: 'data', target: '/var/lib/x' });
    expect(() => parseBind('/src:relative')).toThrow(/must be absolute/);
    expect(() => parseBind('/src:/dst:bogus')).toThrow(/invalid mode: bogus/);
    expect(parseTmpfs('/run', 'size=64m,exec')).toMatchObject({ type: 'tmpfs', options: ['nosuid', 'nodev', 'size=64m', 'exec'] });
    expect(() => parseTmpfs('/run', 'size=64m;rm -rf')).toThrow(/invalid tmpfs option/);
    expect(() => parseMounts({ Binds: ['/a:/x'], Tmpfs: { '/x': '' } })).toThrow(/Duplicate mount point: \/x/);
    expect(() => parseMounts({ Mounts: [{ Type: 'bind', Source: '/definitely/not/here', Target: '/x' }] })).toThrow(/bind source path does not exist/);
  });

  test('names', () => {
    expect(normalizeName('/web-1')).toBe('web-1');
    expect(() => normalizeName('bad name')).toThrow(/Invalid container name/);
    expect(randomName()).toMatch(/^[a-z]+_[a-z]+$/);
  });
});
