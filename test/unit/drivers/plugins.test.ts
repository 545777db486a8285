import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinDrivers, findDriver } from '../../../drivers/registry.js';

// An installed `berth-driver-*` package, ESM with an exports map (no directory import).
const nodeModules = mkdtempSync(join(tmpdir(), 'berth-plugins-'));
const pkg = join(nodeModules, 'berth-driver-demo');
mkdirSync(join(pkg, 'lib'), { recursive: true });
writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'berth-driver-demo', type: 'module', exports: { '.': { import: './lib/main.js' } } }));
writeFileSync(join(pkg, 'lib', 'main.js'), `export default {
  name: 'demo', description: 'a plugin driver', flags: [],
  fromFlags(base) { return { settings: base }; },
  fromSettings(settings) { return { settings }; },
};\n`);
afterAll(() => rmSync(nodeModules, { recursive: true, force: true }));

test('a machine made with a plugin driver finds it again (ls, env, rm use findDriver)', async () => {
  expect(builtinDrivers().map((d) => d.name)).not.toContain('demo');
  const factory = await findDriver('demo', nodeModules);
  expect(factory.name).toBe('demo');
  expect(factory.fromSettings({ MachineName: 'm' } as never)).toEqual({ settings: { MachineName: 'm' } });
  expect(builtinDrivers().map((d) => d.name)).toContain('demo');
});

test('an unknown driver names the ones that exist, plugins included', async () => {
  await expect(findDriver('nope', nodeModules)).rejects.toThrow(/unknown driver "nope"/);
  await expect(findDriver('nope', nodeModules)).rejects.toMatchObject({ hint: expect.stringContaining('demo') });
});
