/**
 * A `docker save` archive of a one-layer busybox image made from Debian's
 * busybox-static, for `docker load` in machine tests (no registry, no internet).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tarFiles } from '../../../src/machine/bundle/tar.js';
import { pack } from 'tar-stream';

async function layerTar(): Promise<Buffer> {
  const busybox = '/bin/busybox';
  if (!existsSync(busybox) || !readFileSync(busybox).subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) {
    throw new Error('machine tests need a static busybox at /bin/busybox: apt-get install busybox-static');
  }
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c) => { chunks.push(c as Buffer); });
  const done = new Promise((r) => p.on('end', r));
  const add = (h: Parameters<typeof p.entry>[0], data?: Buffer) => new Promise<void>((res, rej) => { p.entry({ mtime: new Date(0), ...h }, data ?? Buffer.alloc(0), (e) => (e ? rej(e) : res())); });
  for (const d of ['bin/', 'etc/', 'tmp/', 'proc/', 'sys/', 'dev/']) await add({ name: d, type: 'directory', mode: 0o755 });
  await add({ name: 'bin/busybox', mode: 0o755 }, readFileSync(busybox));
  for (const app of ['sh', 'echo', 'cat', 'ls', 'sleep', 'true', 'hostname', 'id']) await add({ name: `bin/${app}`, type: 'symlink', linkname: 'busybox' });
  await add({ name: 'etc/passwd', mode: 0o644 }, Buffer.from('root:x:0:0:root:/root:/bin/sh\n'));
  await add({ name: 'etc/group', mode: 0o644 }, Buffer.from('root:x:0:\n'));
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

export async function writeBusyboxArchive(path: string, tag = 'busybox:latest'): Promise<void> {
  const layer = await layerTar();
  const diffId = `sha256:${createHash('sha256').update(layer).digest('hex')}`;
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: '2024-01-01T00:00:00Z',
    config: { Env: ['PATH=/bin'], Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created: '2024-01-01T00:00:00Z', created_by: 'berth test' }],
  }));
  const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
  const manifest = Buffer.from(JSON.stringify([{ Config: configName, RepoTags: [tag], Layers: ['layer/layer.tar'] }]));
  writeFileSync(path, await tarFiles([
    { name: configName, data: config, mode: 0o644 },
    { name: 'layer/layer.tar', data: layer, mode: 0o644 },
    { name: 'manifest.json', data: manifest, mode: 0o644 },
  ]));
}
