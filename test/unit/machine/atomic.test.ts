import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../../src/machine/atomic.js';
import { removeStaleLock } from '../../../src/machine/lock.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-atomic-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a write removes the temp files of dead writers and keeps a live writer\'s', async () => {
  const dead = spawnSync('true').pid!; // exited: its pid names no process (until reused, which only delays the sweep)
  const live = spawn('sleep', ['30']);
  try {
    writeFileSync(join(dir, `.creating.json.${dead}.0a1b2c3d.tmp`), '{"hostCr');
    writeFileSync(join(dir, `.config.json.${live.pid}.0a1b2c3d.tmp`), '{}');
    writeFileSync(join(dir, '.notes.tmp'), 'not ours'); // not a berth temp name: left alone
    await writeFileAtomic(join(dir, 'config.json'), '{"a":1}\n');
    expect(readdirSync(dir).sort()).toEqual([`.config.json.${live.pid}.0a1b2c3d.tmp`, '.notes.tmp', 'config.json']);
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).toBe('{"a":1}\n');
  } finally {
    live.kill('SIGKILL');
  }
});

test('a temp file older than the process now running under its pid is an orphan (the pid was reused)', async () => {
  const later = spawn('sleep', ['30']);
  try {
    const orphan = join(dir, `.state.json.${later.pid}.0a1b2c3d.tmp`);
    writeFileSync(orphan, '{"sta');
    const hourAgo = new Date(Date.now() - 3600_000);
    utimesSync(orphan, hourAgo, hourAgo); // written before that process started: by an earlier one
    await writeFileAtomic(join(dir, 'state.json'), '{}\n');
    expect(readdirSync(dir)).not.toContain(`.state.json.${later.pid}.0a1b2c3d.tmp`);
  } finally {
    later.kill('SIGKILL');
  }
});

test('a lock held under a reused pid is taken over; a live holder\'s is not', async () => {
  const other = spawn('sleep', ['30']);
  try {
    const lock = join(dir, 'm.lock');
    writeFileSync(lock, String(other.pid));
    expect(await removeStaleLock(lock)).toBe(false);
    const hourAgo = new Date(Date.now() - 3600_000);
    utimesSync(lock, hourAgo, hourAgo);
    expect(await removeStaleLock(lock)).toBe(true);
    expect(existsSync(lock)).toBe(false);
  } finally {
    other.kill('SIGKILL');
  }
});
