/** docker search: a registry's v2 catalog when the term names a host, else Docker Hub's v1 search. */
import { InvalidArgumentError, UnavailableError } from '../errors.js';
import type { RegistryAuth, SearchResult } from './index.js';
import type { LocalImageService } from './service.js';

export async function searchImages(svc: LocalImageService, term: string, limit: number, auth: RegistryAuth | undefined): Promise<SearchResult[]> {
  if (!term) throw new InvalidArgumentError('search needs a term');
  const slash = term.indexOf('/');
  const first = slash > 0 ? term.slice(0, slash) : '';
  const isHost = first.includes('.') || first.includes(':') || first === 'localhost';
  if (isHost) {
    const needle = term.slice(slash + 1);
    const repos = await svc.registry.catalog(first, svc.authFor(first, auth));
    return repos
      .filter((r) => r.includes(needle))
      .slice(0, limit)
      .map((r) => ({ name: `${first}/${r}`, description: '', star_count: 0, is_official: false, is_automated: false }));
  }
  const url = `https://index.docker.io/v1/search?q=${encodeURIComponent(term)}&n=${limit}`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new UnavailableError(`Docker Hub search is unreachable (${(err as Error).cause ? String(((err as Error).cause as Error).message ?? '') : (err as Error).message}): search a private registry with HOST/TERM`);
  }
  if (!res.ok) throw new UnavailableError(`Docker Hub search answered ${res.status}`);
  const body = (await res.json()) as { results?: Array<{ name: string; description?: string; star_count?: number; is_official?: boolean; is_automated?: boolean }> };
  return (body.results ?? []).slice(0, limit).map((r) => ({ name: r.name, description: r.description ?? '', star_count: r.star_count ?? 0, is_official: Boolean(r.is_official), is_automated: Boolean(r.is_automated) }));
}
