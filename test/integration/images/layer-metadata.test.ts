/**
 * A layer made by GNU tar from a real directory keeps, once pulled: hardlinks,
 * symlinks, device nodes, fifos, ownership, setuid modes, mtimes, xattrs and
 * file capabilities (a binary xattr).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { linkSync, lstatSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync, utimesSync, writeFileSync, chownSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { applyFsOps, listXattrs } from '../../../engine/images/fsops.js';
import { api, startDaemon, type Daemon } from '../../fixtures/daemon.js';
import { imageFromLayers, pushImage } from '../../fixtures/images.js';
import { startRegistry, type Registry } from '../../fixtures/registry.js';

// VFS_CAP_REVISION_2 with the effective bit, permitted = CAP_SETFCAP (bit 31): bytes >= 0x80.
const CAP = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
const MTIME = new Date('2021-03-04T05:06:07Z');

let registry: Registry;
let daemon: Daemon;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'berth-meta-'));
  const src = join(work, 'src');
  mkdirSync(join(src, 'bin'), { recursive: true });
  mkdirSync(join(src, 'dev'));
  writeFileSync(join(src, 'bin/tool'), '#!/bin/sh\necho tool\n');
  chownSync(join(src, 'bin/tool'), 1234, 5678);
  chmodSync(join(src, 'bin/tool'), 0o4755);
  linkSync(join(src, 'bin/tool'), join(src, 'bin/tool-link'));
  symlinkSync('tool', join(src, 'bin/alias'));
  writeFileSync(join(src, 'bin/capped'), 'x');
  await applyFsOps([
    { op: 'mknod', path: join(src, 'dev/null'), mode: 0o020666, major: 1, minor: 3 },
    { op: 'mknod', path: join(src, 'dev/pipe'), mode: 0o010644, major: 0, minor: 0 },
    { op: 'setxattr', path: join(src, 'bin/tool'), name: 'user.berth', value: Buffer.from('hello') },
    { op: 'setxattr', path: join(src, 'bin/capped'), name: 'security.capability', value: CAP },
  ]);
  utimesSync(join(src, 'bin/tool'), MTIME, MTIME);
  const tar = execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-C', src, '-cf', '-', '.'], { maxBuffer: 1 << 26 });
  const blob = gzipSync(tar);
  const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  registry = await startRegistry();
  await pushImage(registry.url, 'meta/layer', 'latest', imageFromLayers([{ blob, digest: sha(blob), diffId: sha(tar), mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' }]));
  daemon = await startDaemon();
});

afterAll(async () => {
  await daemon?.stop();
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('pulled layer keeps links, devices, owners, modes, mtimes, xattrs and capabilities', async () => {
  const pull = await api(daemon, 'POST', `/images/create?fromImage=${registry.host}/meta/layer&tag=latest`);
  expect(pull.lines.find((l) => l.error)).toBeUndefined();
  const dir = (await api(daemon, 'GET', `/images/${registry.host}/meta/layer/json`)).json.GraphDriver.Data.UpperDir as string;
  const tool = lstatSync(join(dir, 'bin/tool'));
  expect([tool.uid, tool.gid]).toEqual([1234, 5678]);
  expect(tool.mode & 0o7777).toBe(0o4755);
  expect(tool.mtime.getTime()).toBe(MTIME.getTime());
  expect(lstatSync(join(dir, 'bin/tool-link')).ino).toBe(tool.ino);
  expect(readlinkSync(join(dir, 'bin/alias'))).toBe('tool');
  const nul = lstatSync(join(dir, 'dev/null'));
  expect(nul.isCharacterDevice()).toBe(true);
  expect(nul.rdev).toBe((1 << 8) | 3);
  expect(lstatSync(join(dir, 'dev/pipe')).isFIFO()).toBe(true);
  const [toolX, capX] = await listXattrs([join(dir, 'bin/tool'), join(dir, 'bin/capped')]);
  expect(toolX['user.berth']?.toString()).toBe('hello');
  expect(capX['security.capability']).toEqual(CAP);
});
