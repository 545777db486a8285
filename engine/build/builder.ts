/**
 * The dispatch loop: stages in order (up to --target), one image per instruction,
 * each step probed in the cache first, the final image tagged.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, statfsSync } from 'node:fs';
import { lstat, mkdir, rm, stat, utimes } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { familiarString, parseReference, withDefaultTag } from '../../src/common/reference.js';
import type { Engine } from '../engine.js';
import { EngineError, InvalidArgumentError, NotFoundError } from '../errors.js';
import type { ImageRecord } from '../images/index.js';
import { formatPlatform, hostPlatform, parsePlatform, requireImagePlatform, type Platform } from '../images/platform.js';
import { extractInto } from '../containers/archive.js';
import { unmountRootfs } from '../containers/rootfs.js';
import { resolveInRoot } from '../containers/safepath.js';
import { shortId } from '../images/digest.js';
import { BuildCache, cacheKey } from './cache.js';
import { applyDockerignore, CONTEXT, receiveContext } from './context.js';
import { decompressed } from '../images/decompress.js';
import { checksum, copyEntry, findSources, mkdirInRoot, parseChmod, parseChown, type Source } from './copy.js';
import { nameValues, parseDockerfile, splitWords, type Instruction } from './dockerfile.js';
import { expandWord } from './expand.js';
import { applyConfigInstruction, DEFAULT_SHELL, isConfigOnly, workingDir, type Cfg } from './config-instructions.js';
import { BuildStepError, type BuildOptions, type BuildOutput, type BuildService, type StepContainers } from './index.js';
import { mountStep } from './rootfs.js';
import { runStep } from './run.js';


/** Default cap on a build context's (uncompressed) size. */
export const DEFAULT_CONTEXT_MAX = 4 * 1024 ** 3;

const PROXY_ARGS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The service, after removing what a build cut short by a crash left (its snapshots and mounts). */
export async function createBuildService(engine: Engine): Promise<BuildService> {
  const keys = await engine.snapshots.list().catch(() => [] as string[]);
  for (const key of keys.filter((k) => k.startsWith('build-'))) {
    await unmountRootfs(join(engine.config.execRoot, 'build', key)).catch(() => undefined);
    await engine.snapshots.remove(key).catch(() => undefined);
  }
  await rm(join(engine.config.execRoot, 'build'), { recursive: true, force: true }).catch(() => undefined);
  const memoryRoot = memoryContextRoot(engine);
  if (memoryRoot) await rm(memoryRoot, { recursive: true, force: true }).catch(() => undefined);
  return {
    async shutdown() {
      if (memoryRoot) await rm(memoryRoot, { recursive: true, force: true }).catch(() => undefined);
    },
    async build(context, opts, out, signal) {
      const name = `build-${randomBytes(8).toString('hex')}`;
      const dir = join(engine.config.dataRoot, 'tmp', name);
      const memDir = memoryRoot ? join(memoryRoot, name) : undefined;
      try {
        const max = engine.config.buildContextMax ?? DEFAULT_CONTEXT_MAX;
        const ctx = await receiveContext(context, { disk: join(dir, 'context'), memory: memDir && join(memDir, 'context') }, opts.dockerfile, max);
        if (ctx.dockerfileName || ctx.dockerfile) await applyDockerignore(ctx.dir);
        const containers = engine.containers as unknown as StepContainers | undefined;
        if (!containers) throw new EngineError('builds need the containers service');
        return await new Build(engine, containers, opts, out, signal, ctx.dir, dir, ctx.dockerfile).run();
      } finally {
        // Not awaited: the answer need not wait for the context's removal (data-root/tmp is emptied at start too).
        void rm(dir, { recursive: true, force: true }).catch(() => undefined);
        if (memDir) void rm(memDir, { recursive: true, force: true }).catch(() => undefined);
      }
    },
  };
}

const TMPFS_MAGIC = 0x01021994;

/** /dev/shm/berth-build-<engine id> when /dev/shm is a tmpfs: small contexts are unpacked there. */
function memoryContextRoot(engine: Engine): string | undefined {
  try {
    if (statfsSync('/dev/shm').type !== TMPFS_MAGIC) return undefined;
  } catch {
    return undefined;
  }
  return join('/dev/shm', `berth-build-${engine.id}`);
}

interface Stage {
  name: string;
  index: number;
  instructions: Instruction[];
  imageId: string;
  image?: ImageRecord;
  config: Cfg;
  platform: Platform;
  author?: string;
  /** ARGs declared in this stage, with their values. */
  args: Map<string, string | undefined>;
  cmdSet: boolean;
}

class Build {
  private readonly cache: BuildCache;
  private readonly stages: Stage[] = [];
  private step = 0;
  private total = 0;
  private escape = '\\';
  private readonly usedArgs = new Set<string>();
  private readonly globalArgs = new Map<string, string | undefined>();
  private readonly write: (text: string) => void;

  constructor(
    private readonly engine: Engine,
    private readonly containers: StepContainers,
    private readonly opts: BuildOptions,
    private readonly out: BuildOutput,
    private readonly signal: AbortSignal,
    private readonly contextDir: string,
    private readonly workDir: string,
    private readonly dockerfile: string,
  ) {
    this.cache = new BuildCache(engine);
    this.write = opts.quiet ? () => undefined : (t) => out.stream(t);
  }

  async run(): Promise<string> {
    const tags = this.opts.tags.map((t) => {
      try {
        return withDefaultTag(parseReference(t));
      } catch {
        throw new InvalidArgumentError(`invalid tag ${JSON.stringify(t)}: invalid reference format`);
      }
    });
    const df = parseDockerfile(this.dockerfile);
    this.escape = df.escape;
    for (const w of df.warnings) this.write(`[WARNING]: ${w}\n`);
    const all = df.instructions;
    if (!all.length) throw new InvalidArgumentError('the Dockerfile (or the file given with -f) has no instructions');
    let i = 0;
    const meta: Instruction[] = [];
    for (; i < all.length && all[i].keyword === 'ARG'; i++) meta.push(all[i]);
    if (i >= all.length || all[i].keyword !== 'FROM') {
      const bad = all[i] ?? all[all.length - 1];
      throw new InvalidArgumentError(`Dockerfile line ${bad.line}: ${bad.keyword} before any FROM: a Dockerfile starts with FROM (only ARG may come before it)`);
    }
    const stages: Instruction[][] = [];
    for (; i < all.length; i++) {
      if (all[i].keyword === 'FROM') stages.push([]);
      stages[stages.length - 1].push(all[i]);
    }
    let last = stages.length - 1;
    if (this.opts.target) {
      last = stages.findIndex((s) => stageName(s[0]) === this.opts.target!.toLowerCase());
      if (last < 0) throw new InvalidArgumentError(`failed to reach build target ${this.opts.target} in Dockerfile: no stage is named so (FROM image AS ${this.opts.target})`);
    }
    const used = stages.slice(0, last + 1);
    if (Object.keys(this.opts.labels).length) {
      const line = 'LABEL ' + Object.entries(this.opts.labels).map(([k, v]) => `${JSON.stringify(k)}=${JSON.stringify(v)}`).join(' ');
      used[used.length - 1].push({ keyword: 'LABEL', args: line.slice(6), flags: {}, original: line, line: 0 });
    }
    this.total = meta.length + used.reduce((n, s) => n + s.length, 0);
    await this.cache.withSources(this.opts.cacheFrom, this.write);

    for (const ins of meta) {
      this.announce(ins);
      for (const [name, def] of nameValues(ins, this.escape)) {
        const given = this.opts.buildArgs[name];
        if (given !== undefined && given !== null) this.usedArgs.add(name);
        this.globalArgs.set(name, given ?? (def === undefined ? undefined : this.expand(def, this.globalVars())));
      }
    }
    for (const [index, ins] of used.entries()) {
      this.checkAborted();
      const stage = await this.from(ins[0], index);
      this.stages.push(stage);
      for (const step of ins.slice(1)) {
        this.checkAborted();
        this.announce(step);
        await this.dispatch(stage, step);
      }
    }
    const final = this.stages[this.stages.length - 1];
    if (!final.imageId) {
      // FROM scratch with nothing else: an image without layers, as docker makes it.
      await this.commit(final, '', undefined, undefined, {}, 'FROM scratch');
    }
    const unused = Object.keys(this.opts.buildArgs).filter((k) => !this.usedArgs.has(k) && !PROXY_ARGS.includes(k));
    if (unused.length) this.write(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`);
    const id = final.imageId;
    this.out.aux({ ID: id });
    this.write(`Successfully built ${shortId(id)}\n`);
    for (const t of tags) {
      await this.engine.images.tag(id, familiarString({ ...t, tag: undefined }), t.tag);
      this.write(`Successfully tagged ${familiarString(t)}\n`);
    }
    if (this.opts.quiet) this.out.stream(`${id}\n`);
    return id;
  }

  private checkAborted(): void {
    if (this.signal.aborted) throw new BuildStepError('the build was canceled', 1);
  }

  private announce(ins: Instruction): void {
    this.step++;
    this.write(`Step ${this.step}/${this.total} : ${ins.original}\n`);
  }

  private globalVars(): Map<string, string> {
    const m = new Map<string, string>();
    for (const [k, v] of this.globalArgs) if (v !== undefined) m.set(k, v);
    return m;
  }

  private vars(stage: Stage): Map<string, string> {
    const m = new Map<string, string>();
    for (const [k, v] of stage.args) if (v !== undefined) m.set(k, v);
    for (const e of stage.config.Env ?? []) {
      const eq = e.indexOf('=');
      m.set(eq < 0 ? e : e.slice(0, eq), eq < 0 ? '' : e.slice(eq + 1));
    }
    return m;
  }

  private expand(word: string, vars: Map<string, string>): string {
    return expandWord(word, vars, this.escape);
  }

  // ---- FROM ----

  private async from(ins: Instruction, index: number): Promise<Stage> {
    this.announce(ins);
    const words = splitWords(ins.args, this.escape);
    if (words.length !== 1 && !(words.length === 3 && words[1].toUpperCase() === 'AS')) {
      throw new InvalidArgumentError(`Dockerfile line ${ins.line}: FROM takes an image and optionally AS name: FROM image [AS name]`);
    }
    const gv = this.globalVars();
    const base = this.expand(words[0], gv);
    if (!base) throw new InvalidArgumentError(`Dockerfile line ${ins.line}: FROM ${words[0]} names no image (is the ARG set?)`);
    const platform = ins.flags.platform ? parsePlatform(this.expand(ins.flags.platform, gv)) : this.opts.platform ? parsePlatform(this.opts.platform) : hostPlatform();
    const stage: Stage = { name: words.length === 3 ? words[2].toLowerCase() : '', index, instructions: [], imageId: '', config: {}, platform, args: new Map(), cmdSet: false };
    const prev = this.stages.find((s) => s.name && s.name === base.toLowerCase());
    let image: ImageRecord | undefined;
    if (prev?.image) {
      image = prev.image;
    } else if (base !== 'scratch') {
      image = await this.baseImage(base, ins.flags.platform || this.opts.platform ? platform : undefined);
    }
    if (image) {
      stage.imageId = image.id;
      stage.image = image;
      stage.config = structuredClone(image.config.config ?? {});
      stage.platform = { os: image.config.os, architecture: image.config.architecture, ...(image.config.variant ? { variant: image.config.variant } : {}) };
      this.write(` ---> ${shortId(image.id)}\n`);
      addDefaultPath(stage.config);
      const triggers = stage.config.OnBuild ?? [];
      if (triggers.length) {
        this.write(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
        stage.config.OnBuild = null;
        for (const t of triggers) {
          const parsed = parseDockerfile(t).instructions[0];
          if (!parsed) continue;
          await this.dispatch(stage, parsed);
        }
      }
    }
    addDefaultPath(stage.config);
    return stage;
  }

  private async baseImage(ref: string, platform: Platform | undefined): Promise<ImageRecord> {
    if (!this.opts.pull) {
      try {
        const img = await this.engine.images.resolve(ref);
        // another platform than the one asked for is not found here, and pulled, as in dockerd
        if (platform) requireImagePlatform(ref, img.config, platform);
        return img;
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    }
    this.write(`${this.opts.pull ? 'Pulling' : 'Image not found locally, pulling'} ${ref}\n`);
    const pulled = await this.engine.images.pull(ref, { platform: platform ? formatPlatform(platform) : undefined, signal: this.signal }, (m) => {
      if (!this.opts.quiet) this.out.progress(m);
    });
    // a single-platform image is pulled whatever its platform: it must be the one asked for
    if (platform) requireImagePlatform(ref, pulled.config, platform);
    return pulled;
  }

  // ---- one step ----

  private shell(stage: Stage): string[] {
    return stage.config.Shell?.length ? stage.config.Shell : DEFAULT_SHELL;
  }

  private nop(stage: Stage, text: string, oneSpace = false): string {
    return [...this.shell(stage), oneSpace ? `#(nop) ${text}` : `#(nop)  ${text}`].join(' ');
  }

  /**
   * Probes the cache, else runs `work` (which answers the layer) and commits.
   * `next` is the config the step's image has.
   */
  private async commit(stage: Stage, createdBy: string, extra: unknown, work: (() => Promise<{ layer: Readable | undefined; release(): Promise<void>; after?: string }>) | undefined, next: Cfg, nopText?: string): Promise<void> {
    const by = createdBy || (nopText ? this.nop(stage, nopText) : '');
    const key = cacheKey(stage.imageId, by, extra ?? null);
    if (!this.opts.noCache) {
      const hit = await this.cache.lookup(key, stage.image, by, next);
      if (hit) {
        this.write(' ---> Using cache\n');
        await this.adopt(stage, hit);
        this.write(` ---> ${shortId(hit)}\n`);
        return;
      }
    }
    let id: string;
    if (work) {
      const w = await work();
      try {
        id = await this.engine.images.commit({ layerTar: w.layer, parentImageId: stage.imageId, config: next, createdBy: by, platform: stage.platform, author: stage.author });
      } finally {
        await w.release();
      }
      if (w.after) this.write(w.after);
    } else {
      id = await this.engine.images.commit({ parentImageId: stage.imageId, config: next, createdBy: by, platform: stage.platform, author: stage.author });
    }
    await this.cache.store(key, id);
    await this.adopt(stage, id);
    this.write(` ---> ${shortId(id)}\n`);
  }

  private async adopt(stage: Stage, id: string): Promise<void> {
    const img = await this.engine.images.resolve(id);
    stage.imageId = img.id;
    stage.image = img;
    stage.config = structuredClone(img.config.config ?? {});
    stage.author = img.config.author;
  }

  private async dispatch(stage: Stage, ins: Instruction): Promise<void> {
    try {
      await this.dispatchInner(stage, ins);
    } catch (err) {
      if (err instanceof BuildStepError || !(err instanceof Error)) throw err;
      if ((ins.keyword === 'COPY' || ins.keyword === 'ADD') && !err.message.startsWith(ins.keyword)) {
        err.message = `${ins.keyword} failed: ${err.message}`;
      }
      throw err;
    }
  }

  private async dispatchInner(stage: Stage, ins: Instruction): Promise<void> {
    const vars = this.vars(stage);
    const cfg = (): Cfg => structuredClone(stage.config);
    if (isConfigOnly(ins.keyword)) {
      const { next, nop } = applyConfigInstruction(ins, stage.config, { vars, escape: this.escape, cmdSet: stage.cmdSet });
      if (ins.keyword === 'CMD') stage.cmdSet = true;
      return this.commit(stage, '', undefined, undefined, next, nop);
    }
    switch (ins.keyword) {
      case 'FROM':
        throw new InvalidArgumentError(`Dockerfile line ${ins.line}: FROM is not allowed here`);
      case 'ARG': {
        const shown: string[] = [];
        for (const [name, def] of nameValues(ins, this.escape)) {
          const given = this.opts.buildArgs[name];
          let value: string | undefined;
          if (given !== undefined && given !== null) {
            value = given;
            this.usedArgs.add(name);
          } else if (def !== undefined) {
            value = this.expand(def, vars);
          } else if (this.globalArgs.has(name)) {
            value = this.globalArgs.get(name);
          }
          stage.args.set(name, value);
          shown.push(def === undefined ? name : `${name}=${this.expand(def, vars)}`);
        }
        return this.commit(stage, '', undefined, undefined, cfg(), `ARG ${shown.join(' ')}`);
      }
      case 'MAINTAINER': {
        stage.author = ins.args.trim();
        return this.commit(stage, '', undefined, undefined, cfg(), `MAINTAINER ${stage.author}`);
      }
      case 'WORKDIR': {
        const next = cfg();
        next.WorkingDir = workingDir(ins, next, { vars, escape: this.escape, cmdSet: stage.cmdSet });
        const dir = next.WorkingDir;
        return this.commit(stage, this.nop(stage, `WORKDIR ${dir}`, true), undefined, async () => {
          const m = await mountStep(this.engine, stage.image?.chainId);
          try {
            await mkdirInRoot(m.root, dir, undefined);
            return { layer: await m.layer(), release: m.release };
          } catch (err) {
            await m.release();
            throw err;
          }
        }, next);
      }
      case 'SHELL': {
        if (!ins.json?.length) throw new InvalidArgumentError(`Dockerfile line ${ins.line}: SHELL requires the arguments to be in JSON form, as SHELL ["/bin/sh", "-c"]`);
        const next = cfg();
        next.Shell = ins.json;
        // docker's history shows the new shell running the comment, and the list as Go's %v.
        return this.commit(stage, [...ins.json, `#(nop)  SHELL [${ins.json.join(' ')}]`].join(' '), undefined, undefined, next);
      }
      case 'RUN':
        return this.runInstruction(stage, ins);
      case 'COPY':
      case 'ADD':
        return this.copyInstruction(stage, ins);
      default:
        throw new InvalidArgumentError(`Dockerfile line ${ins.line}: unknown instruction ${ins.keyword}`);
    }
  }

  // ---- RUN ----

  private async runInstruction(stage: Stage, ins: Instruction): Promise<void> {
    if (!stage.imageId) throw new InvalidArgumentError(`Dockerfile line ${ins.line}: RUN needs a base image with the command in it: this stage starts FROM scratch and has no files yet`);
    const cmd = ins.json ?? [...this.shell(stage), ins.args];
    const envNames = new Set((stage.config.Env ?? []).map((e) => e.split('=')[0]));
    const argEnv: string[] = [];
    for (const [k, v] of [...stage.args].sort(([a], [b]) => a.localeCompare(b))) {
      if (v !== undefined && !envNames.has(k)) argEnv.push(`${k}=${v}`);
    }
    const proxyEnv: string[] = [];
    for (const k of PROXY_ARGS) {
      const v = this.opts.buildArgs[k];
      if (v !== undefined && v !== null && !stage.args.has(k) && !envNames.has(k)) proxyEnv.push(`${k}=${v}`);
    }
    const by = argEnv.length ? `|${argEnv.length} ${argEnv.join(' ')} ${cmd.join(' ')}` : cmd.join(' ');
    const env = [...(stage.config.Env ?? []), ...argEnv, ...proxyEnv];
    const keep = !this.opts.rm && !this.opts.forceRm;
    await this.commit(stage, by, { env: stage.config.Env ?? [], user: stage.config.User ?? '', wd: stage.config.WorkingDir ?? '' }, async () => {
      const r = await runStep(this.engine, this.containers, {
        imageId: stage.imageId, cmd, shown: cmd.join(' '), config: stage.config, env,
        networkMode: this.opts.networkMode, extraHosts: this.opts.extraHosts, shmSize: this.opts.shmSize,
      }, this.write, keep, this.signal);
      return { layer: r.layer, release: r.release, after: keep ? undefined : `Removing intermediate container ${r.containerId.slice(0, 12)}\n` };
    }, cfg(stage));
  }

  // ---- COPY / ADD ----

  private async copyInstruction(stage: Stage, ins: Instruction): Promise<void> {
    const kw = ins.keyword;
    const vars = this.vars(stage);
    for (const f of Object.keys(ins.flags)) {
      if (!['from', 'chown', 'chmod'].includes(f) || (kw === 'ADD' && f === 'from')) throw new InvalidArgumentError(`Dockerfile line ${ins.line}: unknown flag --${f} for ${kw}: this builder knows ${kw === 'ADD' ? '--chown and --chmod' : '--from, --chown and --chmod'}`);
    }
    const words = (ins.json ?? splitWords(ins.args, this.escape)).map((w) => (ins.json ? w : this.expand(w, vars)));
    if (words.length < 2) throw new InvalidArgumentError(`Dockerfile line ${ins.line}: ${kw} requires at least two arguments: ${kw} <src>... <dest>`);
    let dest = words[words.length - 1];
    const srcs = words.slice(0, -1);
    const chmod = parseChmod(ins.flags.chmod ? this.expand(ins.flags.chmod, vars) : undefined);
    const chownSpec = ins.flags.chown ? this.expand(ins.flags.chown, vars) : undefined;
    const destAbs = posix.isAbsolute(dest) ? dest : posix.join(stage.config.WorkingDir || '/', dest) + (dest.endsWith('/') ? '/' : '');
    dest = destAbs;

    // Where the sources are: the context, another stage, or an image (mounted only when needed:
    // an image's content never changes, so its checksum is remembered by image id).
    let fromImage: ImageRecord | undefined;
    let fromImageSet = false;
    if (ins.flags.from) {
      const ref = this.expand(ins.flags.from, vars);
      const byName = this.stages.find((s) => s.name && s.name === ref.toLowerCase()) ?? (/^\d+$/.test(ref) ? this.stages[Number(ref)] : undefined);
      if (/^\d+$/.test(ref) && !byName) throw new InvalidArgumentError(`Dockerfile line ${ins.line}: --from=${ref}: there is no stage ${ref} before this one`);
      fromImage = byName ? byName.image : await this.baseImage(ref, undefined);
      fromImageSet = true;
    }
    const releases: Array<() => Promise<void>> = [];
    let resolved: Source[] | undefined;
    const sourcesNow = async (): Promise<Source[]> => {
      if (resolved) return resolved;
      let root = this.contextDir;
      if (fromImageSet) {
        const m = await mountStep(this.engine, fromImage?.chainId, true);
        releases.push(m.release);
        root = m.root;
      }
      const downloads: Source[] = [];
      const local: string[] = [];
      for (const s of srcs) {
        if (/^https?:\/\//i.test(s)) {
          if (kw !== 'ADD') throw new InvalidArgumentError(`source can't be a URL for COPY: use ADD ${s}`);
          downloads.push(await this.download(s, dest));
        } else {
          local.push(s);
        }
      }
      const found = [...(await findSources(root, local, !fromImageSet, kw)), ...downloads];
      if (found.length > 1 && !dest.endsWith('/')) {
        throw new InvalidArgumentError(`When using ${kw} with more than one source file, the destination must be a directory and end with a /`);
      }
      return (resolved = found);
    };
    try {
      const memoKey = fromImageSet ? cacheKey(fromImage?.id ?? 'scratch', 'sources', [srcs, chmod ?? null]) : undefined;
      let summary = memoKey ? await this.cache.memo(memoKey) : undefined;
      if (!summary) {
        const sources = await sourcesNow();
        summary = `${sources.length > 1 ? 'multi' : sources[0].isDir ? 'dir' : 'file'}:${await checksum(sources, undefined, chmod)}`;
        if (memoKey) await this.cache.remember(memoKey, summary);
      }
      const by = this.nop(stage, `${kw} ${chownSpec ? `--chown=${chownSpec}` : ''}${summary} in ${dest} `, true);
      await this.commit(stage, by, { chown: chownSpec ?? '', chmod: ins.flags.chmod ?? '' }, async () => {
        const sources = await sourcesNow();
        const m = await mountStep(this.engine, stage.image?.chainId);
        try {
          const owner = chownSpec ? parseChown(chownSpec, m.root) : undefined;
          await this.copyInto(m.root, sources, dest, owner, chmod, kw === 'ADD' && !ins.flags.from);
          return { layer: await m.layer(), release: m.release };
        } catch (err) {
          await m.release();
          throw err;
        }
      }, cfg(stage));
    } finally {
      for (const r of releases) await r();
    }
  }

  private async copyInto(root: string, sources: Source[], dest: string, owner: { uid: number; gid: number } | undefined, mode: number | undefined, extractArchives: boolean): Promise<void> {
    const destIsDir = dest.endsWith('/') || sources.length > 1 || (await isDirIn(root, dest));
    for (const s of sources) {
      if (extractArchives && !s.given.match(/^https?:/i) && !s.isDir && (await isArchive(s.host))) {
        await mkdirInRoot(root, dest, owner);
        const plain = decompressed(createReadStream(s.host), CONTEXT);
        await extractInto(root, dest, plain, join(this.workDir, `spool-${randomBytes(6).toString('hex')}`));
        continue;
      }
      if (s.isDir) {
        const host = await mkdirInRoot(root, dest, owner);
        await copyEntry(s.host, host, owner, mode, true);
        continue;
      }
      const target = destIsDir ? posix.join(dest, posix.basename(s.given)) : dest;
      const parent = await mkdirInRoot(root, posix.dirname(target), owner);
      await copyEntry(s.host, join(parent, posix.basename(target)), owner, mode, true);
    }
  }

  /** ADD <url>: fetched by the engine into the build's directory, named like docker does. */
  private async download(url: string, dest: string): Promise<Source> {
    const dir = join(this.workDir, 'downloads', randomBytes(6).toString('hex'));
    await mkdir(dir, { recursive: true });
    let res: Response;
    try {
      res = await fetch(url, { signal: this.signal, redirect: 'follow' });
    } catch (err) {
      const cause = (err as { cause?: { message?: string; code?: string } }).cause;
      throw new InvalidArgumentError(`ADD failed: cannot fetch ${url}: ${cause?.code ?? cause?.message ?? (err as Error).message}: check that the engine host can reach it`);
    }
    if (!res.ok || !res.body) throw new InvalidArgumentError(`ADD failed: fetching ${url} answered ${res.status} ${res.statusText}`);
    const name = posix.basename(new URL(url).pathname) || (dest.endsWith('/') ? '' : posix.basename(dest));
    if (!name) throw new InvalidArgumentError(`ADD ${url}: cannot determine a file name from the URL: give a destination file name`);
    const host = join(dir, name);
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(host, { mode: 0o600 }));
    const lm = res.headers.get('last-modified');
    if (lm && !Number.isNaN(Date.parse(lm))) {
      await utimes(host, new Date(lm), new Date(lm));
    }
    return { given: name, host, isDir: false };
  }
}

/** docker gives every stage a PATH when its base has none. */
function addDefaultPath(c: Cfg): void {
  if (!(c.Env ?? []).some((e) => e.startsWith('PATH='))) c.Env = [...(c.Env ?? []), `PATH=${DEFAULT_PATH}`];
}

function cfg(stage: Stage): Cfg {
  return structuredClone(stage.config);
}

function stageName(from: Instruction): string {
  const w = from.args.trim().split(/\s+/);
  return w.length === 3 && w[1].toUpperCase() === 'AS' ? w[2].toLowerCase() : '';
}

async function isDirIn(root: string, path: string): Promise<boolean> {
  try {
    return (await stat(resolveInRoot(root, path, true))).isDirectory();
  } catch {
    return false;
  }
}

/**
 * A local tar, plain or compressed (gzip, zstd, bzip2, xz), which ADD unpacks. As dockerd's
 * archive.IsArchivePath: the decompressed start must be a tar header, so a compressed file
 * that is not a tar (`notes.txt.gz`) is copied as it is.
 */
async function isArchive(path: string): Promise<boolean> {
  const st = await lstat(path).catch(() => undefined);
  if (!st || st.size < 6) return false;
  const head = await firstBytes(decompressed(createReadStream(path)), 512).catch(() => Buffer.alloc(0));
  return isTarHeader(head);
}

/** Up to `n` bytes from the start of `stream`, which is then destroyed. */
async function firstBytes(stream: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= n) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks).subarray(0, n);
}

/** A tar header block: its checksum (octal, at 148) is the sum of its bytes with that field as spaces. */
function isTarHeader(block: Buffer): boolean {
  if (block.length < 512 || block.every((b) => b === 0)) return false;
  const stored = parseInt(block.subarray(148, 156).toString('latin1').replace(/\0.*$/s, '').trim(), 8);
  if (!Number.isFinite(stored)) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i];
    unsigned += b;
    signed += b > 127 ? b - 256 : b; // old tars summed signed chars
  }
  return stored === unsigned || stored === signed;
}
