/**
 * A writable layer as a docker layer tar: files, dirs, symlinks, hardlinks and
 * devices as they are, deletions as `.wh.NAME`, opaque dirs with `.wh..wh..opq`.
 */
import { createReadStream, readlinkSync } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type tar from 'tar-stream';
import { tarStream } from '../images/tarlib.js';
import type { Stats } from 'node:fs';

export interface DiffEntry {
  rel: string;
  abs?: string;
  st?: Stats;
  kind: 'entry' | 'whiteout' | 'opaque';
}

export function diffTarFrom(entries: () => AsyncIterable<DiffEntry> | Iterable<DiffEntry>): Readable {
  const out = new PassThrough();
  const inodes = new Map<string, string>();
  let pack: tar.Pack | undefined;
  const run = async () => {
    pack = (await tarStream()).pack();
    pack.on('error', (err) => out.destroy(err));
    pack.pipe(out);
    for await (const e of entries()) {
      const slash = e.rel.lastIndexOf('/');
      const dir = slash >= 0 ? e.rel.slice(0, slash + 1) : '';
      const base = e.rel.slice(slash + 1);
      if (e.kind === 'whiteout') {
        // Mode 0600 as dockerd writes whiteouts (layers from both compare equal).
        await addEntry(pack, { name: `${dir}.wh.${base}`, type: 'file', size: 0, mode: 0o600, mtime: new Date(0) });
        continue;
      }
      if (e.kind === 'opaque') {
        await addEntry(pack, { name: `${e.rel}/.wh..wh..opq`, type: 'file', size: 0, mode: 0o644, mtime: new Date(0) });
        continue;
      }
      const st = e.st!;
      const common = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
      if (st.isDirectory()) {
        await addEntry(pack, { ...common, name: `${e.rel}/`, type: 'directory' });
      } else if (st.isSymbolicLink()) {
        await addEntry(pack, { ...common, name: e.rel, type: 'symlink', linkname: readlinkSync(e.abs!) });
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        if (st.nlink > 1 && inodes.has(key)) {
          await addEntry(pack, { ...common, name: e.rel, type: 'link', linkname: inodes.get(key)! });
          continue;
        }
        if (st.nlink > 1) inodes.set(key, e.rel);
        const entry = pack.entry({ ...common, name: e.rel, type: 'file', size: st.size } as tar.Header);
        await pipeline(createReadStream(e.abs!), entry);
      } else if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) {
        const type = st.isFIFO() ? 'fifo' : st.isBlockDevice() ? 'block-device' : 'character-device';
        const major = Math.floor(st.rdev / 256) & 0xfff;
        const minor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
        await addEntry(pack, { ...common, name: e.rel, type, devmajor: major, devminor: minor });
      }
    }
    pack.finalize();
  };
  run().catch((err) => (pack ? pack.destroy(err) : out.destroy(err)));
  return out;
}

function addEntry(pack: tar.Pack, header: Partial<tar.Header> & { name: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    // Files need their (empty) content passed, or tar-stream waits for a stream to be written.
    if (header.type === 'file') pack.entry(header as tar.Header, Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
    else pack.entry(header as tar.Header, (err) => (err ? reject(err) : resolve()));
  });
}
