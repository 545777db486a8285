import { familiarName, familiarString, fullString, parseReference, withDefaultTag, InvalidReferenceError } from '../common/reference.js';
import { registryAuthHeader } from './auth.js';
import type { EngineClient } from './engine.js';
import { printProgress } from './progress.js';

/** Image operations shared by pull, push and run. */
export class BadReferenceError extends Error {}

export function parseImageRef(name: string): ReturnType<typeof parseReference> {
  try {
    return parseReference(name);
  } catch (err) {
    if (err instanceof InvalidReferenceError) throw new BadReferenceError(err.message);
    throw err;
  }
}

/** The repo and tag query parameters of commit and import, split as `tag` splits its target. */
export function repoAndTag(ref: string | undefined): { repo?: string; tag?: string } {
  if (!ref) return {};
  const r = parseImageRef(ref);
  return { repo: familiarName(r), tag: r.tag };
}

/** Pulls `name` (default tag latest) printing progress lines; returns the full reference. */
export async function pullImage(client: EngineClient, name: string, write: (line: string) => void, opts: { all?: boolean; platform?: string; json?: boolean } = {}): Promise<string> {
  const ref = opts.all ? parseImageRef(name) : withDefaultTag(parseImageRef(name));
  const fromImage = familiarString({ ...ref, tag: undefined, digest: undefined });
  const res = await client.stream('POST', '/images/create', {
    query: { fromImage, tag: ref.digest ?? ref.tag, platform: opts.platform },
    headers: { 'X-Registry-Auth': registryAuthHeader(ref.domain) },
  });
  await printProgress(res, write, opts.json);
  return fullString(ref);
}

export async function pushImage(client: EngineClient, name: string, write: (line: string) => void, json = false): Promise<void> {
  const ref = parseImageRef(name);
  const repo = familiarString({ ...ref, tag: undefined, digest: undefined });
  const res = await client.stream('POST', `/images/${encodeImage(repo)}/push`, {
    query: { tag: ref.tag },
    headers: { 'X-Registry-Auth': registryAuthHeader(ref.domain) },
  });
  await printProgress(res, write, json);
}

/** Image names keep their slashes in paths (/images/localhost:5000/a/b/json). */
export function encodeImage(name: string): string {
  return name.split('/').map(encodeURIComponent).join('/');
}
