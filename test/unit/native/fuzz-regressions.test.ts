/**
 * The inputs bench/fuzz.sh kept (native/tests/fuzz-regressions/NAME/: crashes it found,
 * and edge cases) replayed through each fuzz target built as a plain program with ASan
 * and UBSan (native/build/fuzz/replay_NAME, built by `make -C native`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../../src/common/paths.js';

const root = projectRoot();
const targets = readdirSync(join(root, 'native', 'fuzz')).filter((f) => /^fuzz_.*\.c$/.test(f)).map((f) => f.slice(5, -2));

test.each(targets)('fuzz target %s: every kept input runs clean under ASan and UBSan', (name) => {
  const bin = join(root, 'native', 'build', 'fuzz', `replay_${name}`);
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`make -C native\` (npm run build)`);
  const dir = join(root, 'native', 'tests', 'fuzz-regressions', name);
  const inputs = existsSync(dir) ? readdirSync(dir).map((f) => join(dir, f)) : [];
  // Parse trees of the spec target live as long as the process (as in bench/fuzz.sh);
  // the other targets free everything.
  const leaks = name === 'spec' ? 0 : 1;
  const r = spawnSync(bin, inputs, { encoding: 'utf8', env: { ...process.env, ASAN_OPTIONS: `detect_leaks=${leaks}:abort_on_error=1` } });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout.split('\n').filter((l) => l.startsWith('ok '))).toHaveLength(inputs.length);
});

test.each(['monproto', 'unpack'])('the %s target has its kept inputs', (name) => {
  expect(readdirSync(join(root, 'native', 'tests', 'fuzz-regressions', name)).length).toBeGreaterThan(0);
});
