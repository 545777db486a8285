/**
 * An image with hostile symlinks cannot make the runtime mount or write outside its
 * rootfs: mount destinations, created directories and files, and device nodes are all
 * resolved inside the rootfs.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRootfs, removeTree } from '../../fixtures/rootfs.js';
import { Harness } from './harness.js';

let h: Harness;
let hostDir: string;
let evilRootfs: string;
beforeAll(() => {
  h = new Harness();
  hostDir = mkdtempSync(join(tmpdir(), 'berth-escape-target-'));
  writeFileSync(join(hostDir, 'precious'), 'host data\n');
  evilRootfs = makeRootfs();
  symlinkSync(hostDir, join(evilRootfs, 'abs'));                       // absolute, to the host dir
  symlinkSync(`../../../../../../../..${hostDir}`, join(evilRootfs, 'rel')); // relative, climbing out
  mkdirSync(join(evilRootfs, 'etc', 'deep'), { recursive: true });
  symlinkSync('/abs/file-target', join(evilRootfs, 'etc', 'deep', 'file'));  // dangling, through a link
  symlinkSync(hostDir, join(evilRootfs, 'devlink'));
});
afterAll(() => {
  h?.cleanup();
  removeTree(hostDir);
  removeTree(evilRootfs);
});

test('mounts and files through hostile symlinks land inside the rootfs', () => {
  const src = join(h.work, 'bind-src');
  mkdirSync(src);
  writeFileSync(join(src, 'payload'), 'payload\n');
  writeFileSync(join(h.work, 'resolv'), 'nameserver 127.0.0.1\n');
  const r = h.run({
    args: ['sh', '-c', 'cat /abs/sub/payload; ls /rel/tmpfs-here && echo tmpfs-ok; cat /abs/file-target; (echo x > /abs/written) 2>&1; ls /devlink'],
    edit: (s) => {
      s.root.path = evilRootfs;
      s.mounts.push(
        { destination: '/abs/sub', type: 'bind', source: src, options: ['rbind', 'ro'] },
        { destination: '/rel/tmpfs-here', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
        { destination: '/etc/deep/file', type: 'bind', source: join(h.work, 'resolv'), options: ['rbind', 'ro'] },
      );
      s.linux.devices = [{ path: '/devlink/null2', type: 'c', major: 1, minor: 3, fileMode: 0o666 }];
    },
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/payload/);
  expect(r.stdout).toMatch(/tmpfs-ok/);
  expect(r.stdout).toMatch(/nameserver 127\.0\.0\.1/);
  // the host directory is exactly as it was
  expect(readdirSync(hostDir)).toEqual(['precious']);
  expect(readFileSync(join(hostDir, 'precious'), 'utf8')).toBe('host data\n');
  // what the links pointed at was made inside the rootfs instead
  expect(existsSync(join(evilRootfs, hostDir.slice(1), 'sub'))).toBe(true);
  expect(existsSync(join(evilRootfs, hostDir.slice(1), 'tmpfs-here'))).toBe(true);
  expect(existsSync(join(evilRootfs, hostDir.slice(1), 'file-target'))).toBe(true);
  expect(existsSync(join(evilRootfs, hostDir.slice(1), 'written'))).toBe(true);
});
