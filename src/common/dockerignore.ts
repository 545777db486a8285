/** .dockerignore matching with docker's rules (`**`, `!` exceptions, last match wins), shared with berth's client. */
import ignoreModule from '@balena/dockerignore';

type IgnoreFactory = typeof import('@balena/dockerignore').default;
// A CommonJS package whose typings declare an ES default export.
const ignore = ((ignoreModule as unknown as { default?: IgnoreFactory }).default ?? ignoreModule) as IgnoreFactory;

/** A predicate over context-relative paths ("a/b"), or undefined when the file excludes nothing. */
export function dockerignore(text: string): ((rel: string) => boolean) | undefined {
  const patterns = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  if (!patterns.length) return undefined;
  const ig = ignore().add(patterns);
  return (rel) => ig.ignores(rel);
}
