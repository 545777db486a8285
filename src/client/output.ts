import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UsageError } from './argv.js';

/**
 * A tar from the engine (save, export) to `-o FILE` (written beside it and renamed into
 * place, so an interrupted save leaves no truncated archive) or to stdout, which must
 * not be a terminal.
 */
export async function writeArchive(src: Readable, file: string | undefined): Promise<void> {
  if (!file || file === '-') {
    if (process.stdout.isTTY) throw new UsageError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    return pipeline(src, process.stdout);
  }
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    await pipeline(src, createWriteStream(tmp));
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
