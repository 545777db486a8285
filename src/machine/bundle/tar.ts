import { pack } from 'tar-stream';

export interface TarEntry { name: string; data: Buffer; mode: number }

/** A ustar archive of in-memory files (mtime 0, owner root: reproducible bytes). */
export async function tarFiles(entries: TarEntry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c) => { chunks.push(c as Buffer); });
  const done = new Promise<void>((resolve, reject) => { p.on('end', resolve); p.on('error', reject); });
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      p.entry({ name: e.name, size: e.data.length, mode: e.mode, mtime: new Date(0), uid: 0, gid: 0 }, e.data, (err) => (err ? reject(err) : resolve()));
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}
