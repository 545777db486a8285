/** .dockerignore matching with docker's rules (`**`, `!` exceptions, last match wins), shared with berth's client. */
import ignoreModule from '@balena/dockerignore';

type IgnoreFactory = typeof import('@balena/dockerignore').default;
// A CommonJS package whose typings declare an ES default export.
const ignore = ((ignoreModule as unknown as { default?: IgnoreFactory }).default ?? ignoreModule) as IgnoreFactory;

/** A pattern the matcher cannot compile (docker: "syntax error in pattern"). */
export class DockerignoreSyntaxError extends Error {}

/**
 * A predicate over context-relative paths ("a/b"), or undefined when the file excludes
 * nothing. Throws DockerignoreSyntaxError for a bad pattern (the matcher would only
 * fail later, at the first path it tests).
 */
export function dockerignore(text: string): ((rel: string) => boolean) | undefined {
  const patterns = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  if (!patterns.length) return undefined;
  for (const p of patterns) {
    try {
      ignore().add([p]).ignores('x');
    } catch {
      throw new DockerignoreSyntaxError(`.dockerignore: syntax error in pattern ${JSON.stringify(p.slice(0, 200))}: fix or remove it`);
    }
  }
  const ig = ignore().add(patterns);
  return (rel) => ig.ignores(rel);
}
