/** Runs the native unit tests (native/tests/test_*.c, built by `make -C native`) and reads their TAP. */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../../src/common/paths.js';

const dir = join(projectRoot(), 'native', 'build', 'tests');
const sources = readdirSync(join(projectRoot(), 'native', 'tests')).filter((f) => /^test_.*\.c$/.test(f));

test.each(sources.map((s) => s.replace(/\.c$/, '')))('%s passes every TAP test', (name) => {
  const bin = join(dir, name);
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`make -C native\` (npm run build)`);
  const r = spawnSync(bin, { encoding: 'utf8' });
  const failed = r.stdout.split('\n').filter((l) => l.startsWith('not ok'));
  expect(failed).toEqual([]);
  expect(r.stdout).toMatch(/^1\.\.\d+$/m);
  expect(r.status).toBe(0);
});
