import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Which machine owns the engine installed under a prefix ('' = /): a claim file in its
 * config directory, written when the machine is created and removed with it, so a
 * second local machine (another store, or a second create) never takes over the
 * engine, its certificates or its port.
 */
export interface Claim { store: string; name: string; port: number }

export function claimPath(prefix: string): string {
  return join(prefix || '/', 'etc', 'berth', 'machine.json');
}

export async function readClaim(prefix: string): Promise<Claim | null> {
  const text = await readFile(claimPath(prefix), 'utf8').catch(() => null);
  if (text === null) return null;
  try { return JSON.parse(text) as Claim; } catch { return null; }
}

export async function writeClaim(prefix: string, c: Claim): Promise<void> {
  const p = claimPath(prefix);
  await mkdir(dirname(p), { recursive: true, mode: 0o755 });
  await writeFile(`${p}.tmp`, JSON.stringify(c) + '\n', { mode: 0o644 });
  await rename(`${p}.tmp`, p);
}

export async function dropClaim(prefix: string, c: Claim): Promise<void> {
  const now = await readClaim(prefix);
  if (now && sameOwner(now, c)) await rm(claimPath(prefix), { force: true });
}

export function sameOwner(a: Claim, b: Claim): boolean {
  return a.store === b.store && a.name === b.name;
}
