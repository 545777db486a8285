/** bzip2, xz and zstd through the system tools (node has none of them). */
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';

export const gzipTar = (b: Buffer) => gzipSync(b);
export const bzip2Sync = (b: Buffer) => execFileSync('bzip2', ['-c'], { input: b });
export const xzSync = (b: Buffer) => execFileSync('xz', ['-c'], { input: b });
export const zstdSync = (b: Buffer) => execFileSync('zstd', ['-q', '-c'], { input: b });
