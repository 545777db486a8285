import { readFile, stat } from 'node:fs/promises';
import { writeFileAtomic } from '../atomic.js';

/**
 * Remembers that a machine's certificates passed the checks `env` makes before it
 * connects (the server cert is from the CA and covers the machine's addresses; the
 * client cert is from the CA and valid now): parsing and verifying them costs more
 * than the rest of the command. The memo is keyed by each file's identity (inode,
 * size, mtime) and the names wanted; any change to a file, or the client cert's
 * validity ending, makes the next command check again.
 */
export interface CheckMemo { file: string; key: string }

export async function checkMemo(file: string, certFiles: string[], wanted: string[]): Promise<CheckMemo> {
  const ids = await Promise.all(certFiles.map((f) => stat(f).then((s) => `${s.ino}.${s.size}.${s.mtimeMs}`, () => 'missing')));
  return { file, key: JSON.stringify([certFiles, ids, wanted]) };
}

export async function alreadyChecked(memo: CheckMemo, now = Date.now()): Promise<boolean> {
  const saved = await readFile(memo.file, 'utf8').then((t) => JSON.parse(t) as { key?: string; until?: number }, () => undefined);
  return saved?.key === memo.key && typeof saved.until === 'number' && now < saved.until;
}

/** `until`: when the checks must run again (the client cert's notAfter). */
export async function rememberChecked(memo: CheckMemo, until: number): Promise<void> {
  // The memo only saves work: a store that cannot be written to just checks every time.
  await writeFileAtomic(memo.file, JSON.stringify({ key: memo.key, until }) + '\n', 0o600).catch(() => undefined);
}
