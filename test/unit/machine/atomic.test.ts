import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../../src/machine/atomic.js';

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
