import { readFileSync, statSync } from 'node:fs';
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

// Synchronous: five stats and one small read cost less so than through the thread pool
// (and env then needs no node:fs/promises).
export async function checkMemo(file: string, certFiles: string[], wanted: string[]): Promise<CheckMemo> {
  const ids = certFiles.map((f) => {
    try {
      const s = statSync(f);
      return `${s.ino}.${s.size}.${s.mtimeMs}`;
    } catch {
      return 'missing';
    }
  });
  return { file, key: JSON.stringify([certFiles, ids, wanted]) };
}

export async function alreadyChecked(memo: CheckMemo, now = Date.now()): Promise<boolean> {
  let saved: { key?: string; until?: number } | undefined;
  try {
    saved = JSON.parse(readFileSync(memo.file, 'utf8'));
  } catch { /* no memo, or a torn one: check */ }
  return saved?.key === memo.key && typeof saved.until === 'number' && now < saved.until;
}

/** `until`: when the checks must run again (the client cert's notAfter). */
export async function rememberChecked(memo: CheckMemo, until: number): Promise<void> {
  // The memo only saves work: a store that cannot be written to just checks every time.
  await writeFileAtomic(memo.file, JSON.stringify({ key: memo.key, until }) + '\n', 0o600).catch(() => undefined);
}
