import { spawnSync } from 'node:child_process';
import { berth } from './machine/helpers.js';
import { projectRoot } from '../../src/common/paths.js';

test('berth --version and -v print what oclif prints for --version', () => {
  const root = projectRoot();
  const script = `import { execute } from '@oclif/core'; await execute({ dir: ${JSON.stringify(`file://${root}/bin/berth`)}, args: ['--version'], loadOptions: { root: ${JSON.stringify(root)} } });`;
  const oclif = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
  expect(oclif.stdout).toMatch(/^berth\/\d+\.\d+\.\d+ linux-x64 node-v\d+/);
  for (const flag of ['--version', '-v']) expect(berth([flag])).toEqual({ code: 0, stdout: oclif.stdout, stderr: '' });
});
