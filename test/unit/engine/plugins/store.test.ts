import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PluginStore } from '../../../../engine/plugins/store.js';

const ID = 'b'.repeat(64);
let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'berth-pluginstore-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function plugin(dir: string, files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
}

const obj = (description: string) => JSON.stringify({ Id: ID, Name: 'p:latest', Enabled: false, Settings: {}, Config: { Description: description } });

describe('the plugin store after a crash', () => {
  test('an upgrade past its commit point (upgrade.json written) is finished', async () => {
    const dir = join(root, 'plugins', ID);
    plugin(dir, { 'plugin.json': obj('old'), 'rootfs/v': 'old', 'rootfs.new/v': 'new', 'upgrade.json': obj('new') });
    const store = await PluginStore.open(root);
    expect(store.get('p').Config.Description).toBe('new');
    expect(readFileSync(join(dir, 'rootfs', 'v'), 'utf8')).toBe('new');
    for (const left of ['rootfs.new', 'rootfs.old', 'upgrade.json']) expect(existsSync(join(dir, left))).toBe(false);
  });

  test('an upgrade stopped in its rootfs swap is finished', async () => {
    const dir = join(root, 'plugins', ID);
    plugin(dir, { 'plugin.json': obj('old'), 'rootfs.old/v': 'old', 'rootfs.new/v': 'new', 'upgrade.json': obj('new') });
    const store = await PluginStore.open(root);
    expect(store.get('p').Config.Description).toBe('new');
    expect(readFileSync(join(dir, 'rootfs', 'v'), 'utf8')).toBe('new');
  });

  test('an upgrade before its commit point is undone; creates and removals in tmp/ are dropped', async () => {
    const dir = join(root, 'plugins', ID);
    plugin(dir, { 'plugin.json': obj('old'), 'rootfs/v': 'old', 'rootfs.new/v': 'half' });
    plugin(join(root, 'plugins', 'tmp'), { [`${'c'.repeat(64)}/rootfs/x`]: 'half-created' });
    plugin(join(root, 'plugins', 'd'.repeat(64)), { 'rootfs/x': 'no plugin.json' });
    const store = await PluginStore.open(root);
    expect(store.get('p').Config.Description).toBe('old');
    expect(readFileSync(join(dir, 'rootfs', 'v'), 'utf8')).toBe('old');
    expect(existsSync(join(dir, 'rootfs.new'))).toBe(false);
    expect(existsSync(join(root, 'plugins', 'tmp'))).toBe(false);
    expect(existsSync(join(root, 'plugins', 'd'.repeat(64)))).toBe(false);
    expect(store.all()).toHaveLength(1);
  });
});
