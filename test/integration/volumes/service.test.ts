import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../../../engine/events.js';
import { VolumeService } from '../../../engine/volumes/service.js';
import { isMounted } from '../../../engine/volumes/driver.js';

const root = mkdtempSync(join(tmpdir(), 'berth-vol-'));
const dataRoot = join(root, 'data');
let svc: VolumeService;
const CID = 'c'.repeat(64);
const CID2 = 'd'.repeat(64);

beforeAll(async () => {
  svc = await VolumeService.open(dataRoot, new EventBus());
});

afterAll(async () => {
  await svc.release(CID).catch(() => undefined);
  await svc.release(CID2).catch(() => undefined);
  for (const v of svc.list()) if (isMounted(v.Mountpoint)) await svc.release('x').catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

test('named volumes: create, inspect, list with filters, hostile names', async () => {
  const v = await svc.create({ Name: 'data1', Labels: { app: 'web' } });
  expect(v).toMatchObject({ Name: 'data1', Driver: 'local', Scope: 'local', Labels: { app: 'web' }, Mountpoint: join(dataRoot, 'volumes', 'data1', '_data') });
  expect(statSync(v.Mountpoint).isDirectory()).toBe(true);
  expect((await svc.create({ Name: 'data1' })).CreatedAt).toBe(v.CreatedAt); // existing: unchanged
  expect(svc.list({ label: ['app=web'] }).map((x) => x.Name)).toEqual(['data1']);
  expect(svc.list({ label: ['app=db'] })).toEqual([]);
  expect(svc.list({ name: ['ata'] }).map((x) => x.Name)).toEqual(['data1']);
  for (const bad of ['a/b', '..', 'x', '../etc', 'a..b']) {
    await expect(svc.create({ Name: bad })).rejects.toThrow(/invalid volume name/);
  }
  expect(existsSync(join(dataRoot, 'etc'))).toBe(false);
  expect(() => svc.inspect('nope')).toThrow(/no such volume/);
});

test('copy-up fills a new volume from the image content, ownership kept; data survives the container and a restart', async () => {
  const rootfs = join(root, 'rootfs');
  mkdirSync(join(rootfs, 'srv', 'sub'), { recursive: true });
  writeFileSync(join(rootfs, 'srv', 'sub', 'f.txt'), 'from image\n');
  chownSync(join(rootfs, 'srv'), 1234, 2345);
  chownSync(join(rootfs, 'srv', 'sub', 'f.txt'), 1234, 2345);
  const { name, hostPath } = await svc.acquire({ type: 'volume', source: '', target: '/srv', readOnly: false, options: {} }, CID, rootfs);
  expect(name).toMatch(/^[0-9a-f]{64}$/);
  expect(readFileSync(join(hostPath, 'sub', 'f.txt'), 'utf8')).toBe('from image\n');
  expect(statSync(hostPath).uid).toBe(1234);
  expect(statSync(join(hostPath, 'sub', 'f.txt')).gid).toBe(2345);
  expect(svc.inspect(name).Labels).toHaveProperty(['com.docker.volume.anonymous']);

  // a named volume used by two containers; in use -> 409
  const named = await svc.acquire({ type: 'volume', source: 'shared', target: '/srv', readOnly: false, options: {} }, CID, rootfs);
  writeFileSync(join(named.hostPath, 'written.txt'), 'by c\n');
  await svc.acquire({ type: 'volume', source: 'shared', target: '/srv', readOnly: false, options: {} }, CID2, rootfs);
  expect(existsSync(join(named.hostPath, 'written.txt'))).toBe(true); // not copied over again
  await expect(svc.remove('shared')).rejects.toThrow(/volume is in use/);
  expect(svc.list({ dangling: ['false'] }).map((v) => v.Name).sort()).toEqual([name, 'shared'].sort());

  await svc.release(CID, { removeAnonymous: true });
  expect(() => svc.inspect(name)).toThrow(/no such volume/); // rm -v: anonymous volume gone
  svc = await VolumeService.open(dataRoot, new EventBus()); // engine restart
  expect(readFileSync(join(svc.inspect('shared').Mountpoint, 'written.txt'), 'utf8')).toBe('by c\n');
  await expect(svc.remove('shared')).rejects.toThrow(/in use/); // refs survive restarts
  await svc.release(CID2);
  await svc.remove('shared');
  expect(existsSync(named.hostPath)).toBe(false);
});

test('tmpfs and bind-backed volumes are mounted while used', async () => {
  await expect(svc.create({ Name: 'bad', DriverOpts: { type: 'tmpfs' } })).rejects.toThrow(/needs a device/);
  await expect(svc.create({ Name: 'bad', DriverOpts: { o: 'bind', device: '/nonexistent/dir' } })).rejects.toThrow(/not an existing directory/);
  await expect(svc.create({ Name: 'bad', DriverOpts: { colour: 'red' } })).rejects.toThrow(/invalid option/);
  expect(() => svc.inspect('bad')).toThrow(/no such volume/);

  await svc.create({ Name: 'scratch', DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=8m' } });
  const t = await svc.acquire({ type: 'volume', source: 'scratch', target: '/tmp', readOnly: false, options: {} }, CID, null);
  expect(readFileSync('/proc/self/mountinfo', 'utf8')).toMatch(new RegExp(`${t.hostPath} .* - tmpfs `));

  const dir = join(root, 'backing');
  mkdirSync(dir);
  writeFileSync(join(dir, 'hello'), 'backed\n');
  await svc.create({ Name: 'backed', DriverOpts: { type: 'none', o: 'bind', device: dir } });
  const bnd = await svc.acquire({ type: 'volume', source: 'backed', target: '/b', readOnly: false, options: {} }, CID, null);
  expect(readFileSync(join(bnd.hostPath, 'hello'), 'utf8')).toBe('backed\n');

  await svc.release(CID);
  expect(isMounted(t.hostPath)).toBe(false);
  expect(isMounted(bnd.hostPath)).toBe(false);
  expect(readFileSync(join(dir, 'hello'), 'utf8')).toBe('backed\n'); // the backing directory is untouched
});

test('prune removes unused anonymous volumes, or all unused with all=true', async () => {
  const anon = await svc.create({});
  await svc.create({ Name: 'keepme' });
  const used = await svc.acquire({ type: 'volume', source: 'busy', target: '/x', readOnly: false, options: {} }, CID, null);
  const first = await svc.prune();
  expect(first.VolumesDeleted).toEqual([anon.Name]);
  const second = await svc.prune({ all: ['true'] });
  expect(second.VolumesDeleted.sort()).toEqual(['backed', 'data1', 'keepme', 'scratch']);
  expect(svc.list().map((v) => v.Name)).toEqual([used.name]);
  await svc.release(CID);
});
