import { rmSync } from 'node:fs';
import { writeFileAtomic } from './fsutil.js';

export function writePidfile(path: string): () => void {
  writeFileAtomic(path, `${process.pid}\n`);
  return () => rmSync(path, { force: true });
}
