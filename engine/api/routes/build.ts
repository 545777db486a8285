/** POST /build: the classic builder's request (query + context tar) and its JSON progress stream. */
import type { Engine } from '../../engine.js';
import { InvalidArgumentError, NotImplementedError } from '../../errors.js';
import { BuildStepError, type BuildOptions, type BuildService } from '../../build/index.js';
import { queryBool } from '../query.js';
import type { Ctx, JsonStream, Router } from '../router.js';

export function register(router: Router, engine: Engine, builds: BuildService): void {
  router.post('/build', async (ctx) => {
    const opts = buildOptions(ctx);
    let out: JsonStream | undefined;
    const stream = () => (out ??= ctx.stream());
    try {
      await builds.build(ctx.raw(), opts, {
        stream: (text) => stream().write({ stream: text }),
        progress: (m) => stream().write(m),
        aux: (value) => stream().write({ aux: value }),
      }, ctx.signal);
    } catch (err) {
      // Before any output, the error is the HTTP answer; after, docker's error line (with the step's exit code).
      if (!out && !(err instanceof BuildStepError)) throw err;
      const message = ctx.errorText(err);
      const code = err instanceof BuildStepError ? err.code : undefined;
      stream().write({ errorDetail: { ...(code !== undefined ? { code } : {}), message }, error: message });
    }
  });
}

function json<T>(ctx: Ctx, name: string, fallback: T): T {
  const v = ctx.query.get(name);
  if (!v) return fallback;
  try {
    return JSON.parse(v) as T;
  } catch {
    throw new InvalidArgumentError(`${name}=${v}: not valid JSON`);
  }
}

function buildOptions(ctx: Ctx): BuildOptions {
  const q = ctx.query;
  if (q.get('remote')) throw new NotImplementedError(`remote=${q.get('remote')}: remote build contexts (git or URL) are not supported: send the context as a tar`);
  if (queryBool(q, 'squash')) throw new InvalidArgumentError('squash is not supported by this builder: build without --squash (a multi-stage Dockerfile with COPY --from gives a flat image)');
  if (q.get('version') === '2') throw new NotImplementedError('BuildKit (version=2) is not supported: use the classic builder (DOCKER_BUILDKIT=0, or a docker CLI without buildx)');
  const shm = q.get('shmsize');
  if (shm && !/^\d+$/.test(shm)) throw new InvalidArgumentError(`shmsize=${shm}: give a number of bytes`);
  const buildArgs = json<Record<string, string | null>>(ctx, 'buildargs', {});
  const labels = json<Record<string, string>>(ctx, 'labels', {});
  const isObjectOf = (v: unknown, ok: (x: unknown) => boolean) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(ok);
  if (!isObjectOf(buildArgs, (x) => typeof x === 'string' || x === null)) throw new InvalidArgumentError('buildargs must be a JSON object of strings (or null)');
  if (!isObjectOf(labels, (x) => typeof x === 'string')) throw new InvalidArgumentError('labels must be a JSON object of strings');
  const cacheFrom = json<string[]>(ctx, 'cachefrom', []);
  if (!Array.isArray(cacheFrom) || !cacheFrom.every((x) => typeof x === 'string')) throw new InvalidArgumentError('cachefrom must be a JSON array of image names');
  const extraHosts = q.getAll('extrahosts').flatMap((h) => h.split(',')).map((h) => h.trim()).filter(Boolean);
  return {
    dockerfile: q.get('dockerfile') || 'Dockerfile',
    tags: q.getAll('t').filter(Boolean),
    buildArgs,
    labels,
    target: q.get('target') || undefined,
    noCache: queryBool(q, 'nocache'),
    pull: queryBool(q, 'pull'),
    rm: q.has('rm') ? queryBool(q, 'rm') : true,
    forceRm: queryBool(q, 'forcerm'),
    cacheFrom,
    networkMode: q.get('networkmode') || undefined,
    platform: q.get('platform') || undefined,
    shmSize: shm ? Number(shm) : undefined,
    extraHosts,
    quiet: queryBool(q, 'q'),
  };
}
