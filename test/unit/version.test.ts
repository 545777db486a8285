import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../src/common/paths.js';

test('berth version names the client and the runtime it found', () => {
  const out = execFileSync(join(projectRoot(), 'bin', 'berth'), ['version', '--json'], { encoding: 'utf8' });
  const info = JSON.parse(out);
  expect(info.client).toMatch(/^\d+\.\d+\.\d+/);
  expect(info.runtime.found).toBe(true);
  expect(info.runtime.path).toMatch(/berth-runtime$/);
});
