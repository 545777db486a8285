import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The Debian mirror this computer's apt already uses: the first URI of a deb822
 * .sources file or a one-line sources.list entry whose suite is a plain release
 * (not -security, -updates or -backports). Debian's own mirror when apt has none.
 */
export const DEBIAN_MIRROR = 'http://deb.debian.org/debian';

export function mirrorFromSources(texts: string[]): string | undefined {
  for (const text of texts) {
    // deb822 stanzas
    for (const stanza of text.split(/\n\s*\n/)) {
      const field = (k: string) => new RegExp(`^${k}:\\s*(.+)$`, 'mi').exec(stanza)?.[1].trim();
      const types = field('Types');
      const uris = field('URIs');
      const suites = field('Suites');
      if (!types?.split(/\s+/).includes('deb') || !uris || !suites) continue;
      if (!suites.split(/\s+/).some(plainSuite)) continue;
      const uri = uris.split(/\s+/).find((u) => /^https?:\/\//.test(u));
      if (uri) return uri.replace(/\/+$/, '');
    }
    // one-line format
    for (const line of text.split('\n')) {
      const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(https?:\/\/\S+)\s+(\S+)/.exec(line);
      if (m && plainSuite(m[2])) return m[1].replace(/\/+$/, '');
    }
  }
  return undefined;
}

function plainSuite(s: string): boolean {
  return !/[-/](security|updates|backports|proposed-updates)$/.test(s);
}

export async function aptMirror(etc = '/etc/apt'): Promise<string> {
  const files = [join(etc, 'sources.list')];
  const dir = join(etc, 'sources.list.d');
  for (const f of (await readdir(dir).catch(() => [] as string[])).sort()) {
    if (f.endsWith('.sources') || f.endsWith('.list')) files.push(join(dir, f));
  }
  const texts = await Promise.all(files.map((f) => readFile(f, 'utf8').catch(() => '')));
  return mirrorFromSources(texts.map((t) => t.replace(/^\s*#.*\n?/gm, ''))) ?? DEBIAN_MIRROR;
}
