import { createHash } from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, rename, stat, writeFile, rm, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gzipSync } from 'node:zlib';
import { projectRoot } from '../../common/paths.js';
import { ProvisionError, reason } from '../errors.js';
import { inlineEtcdProtos } from './etcd-protos.js';
import { tarFiles } from './tar.js';

const run = promisify(execFile);

/**
 * The engine bundle a host receives: a gzip tar of bin/berthd (a Node single
 * executable application: this node binary with the esbuild-bundled engine injected,
 * so the host needs no Node or npm), bin/berth-runtime and bin/berth-proxy (static C). Its id is the
 * sha256 of the tar, stored on the host as BUNDLE_ID to skip identical uploads.
 * Where this computer has zstd, the same tar is also kept zstd-compressed
 * (`zstdPath`): a host with zstd gets that one, which unpacks about four times faster.
 */
export interface Bundle { id: string; path: string; size: number; zstdPath?: string }

const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

function cacheDir(): string {
  return process.env.BERTH_BUNDLE_CACHE || join(projectRoot(), 'dist', 'bundle');
}

/**
 * Whitespace and syntax minified, names kept (stack traces still name functions): the
 * SEA holds its script twice, in the mapped binary and as V8's source string, and the
 * 2.7 MB source is 1.8 MB so. Part of the bundle's input stamp.
 */
const MINIFY = { minifyWhitespace: true, minifySyntax: true } as const;

/** The bundled engine as one CommonJS file (what the SEA runs). */
async function bundleEngine(outFile: string): Promise<void> {
  const esbuild = await import('esbuild');
  const root = projectRoot();
  await esbuild.build({
    stdin: {
      contents: `import { main } from './engine/main.ts';\nmain(process.argv.slice(2));\n`,
      resolveDir: root,
      sourcefile: 'berthd-entry.ts',
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: outFile,
    logLevel: 'error',
    plugins: [inlineEtcdProtos()],
    ...MINIFY,
    // import.meta.url has no CJS meaning; the SEA's own path stands in for it.
    define: {
      'import.meta.url': '__berth_import_meta_url',
      __BERTH_VERSION__: JSON.stringify(JSON.parse(await readFile(join(root, 'package.json'), 'utf8')).version),
    },
    banner: { js: `const __berth_import_meta_url = require('node:url').pathToFileURL(process.execPath).href;` },
  });
}

async function makeSea(script: string, out: string, work: string): Promise<void> {
  const seaConfig = join(work, 'sea-config.json');
  const blob = join(work, 'sea.blob');
  await writeFile(seaConfig, JSON.stringify({ main: script, output: blob, disableExperimentalSEAWarning: true }));
  await run(process.execPath, ['--experimental-sea-config', seaConfig]);
  await copyFile(process.execPath, out);
  await chmod(out, 0o755);
  const postject = 'postject'; // untyped package: imported by name
  const { inject } = (await import(postject)) as { inject: (f: string, n: string, d: Buffer, o: object) => Promise<void> };
  // postject prints warnings about ELF note sections that are harmless for node binaries.
  const warn = console.warn;
  const log = console.log;
  console.warn = () => undefined;
  console.log = () => undefined;
  try {
    await inject(out, 'NODE_SEA_BLOB', await readFile(blob), { sentinelFuse: SEA_FUSE });
  } finally {
    console.warn = warn;
    console.log = log;
  }
}

/**
 * The bundle for the current sources: remembered, cached by content, or built.
 * BERTH_BUNDLE names a prebuilt bundle to use as is.
 */
export async function ensureBundle(): Promise<Bundle> {
  if (process.env.BERTH_BUNDLE) return describe(process.env.BERTH_BUNDLE);
  const dir = cacheDir();
  // Fast path: no input changed since the last build (sizes and mtimes of the sources).
  const stamp = await inputStamp();
  const remembered = await readFile(join(dir, 'current.json'), 'utf8').then((t) => JSON.parse(t) as Bundle & { stamp: string }, () => null);
  if (remembered?.stamp === stamp && (await stat(remembered.path).then((st) => st.size === remembered.size, () => false))) {
    const zstdPath = remembered.zstdPath && (await stat(remembered.zstdPath).then(() => remembered.zstdPath, () => undefined));
    return { id: remembered.id, path: remembered.path, size: remembered.size, ...(zstdPath ? { zstdPath } : {}) };
  }
  const built = await build(dir);
  await writeFile(join(dir, 'current.json'), JSON.stringify({ ...built, stamp }));
  return built;
}

/** The static binaries of native/build that go in the bundle's bin/. */
const NATIVE = ['berth-runtime', 'berth-proxy'];

/** What the bundle is made of: engine and shared sources, the lock file, berth-runtime, berth-proxy, node. */
async function inputStamp(): Promise<string> {
  const root = projectRoot();
  const h = createHash('sha256').update(process.version).update(process.execPath).update(`zstd:${ZSTD_LEVEL}`).update(JSON.stringify(MINIFY));
  const files: string[] = [join(root, 'package-lock.json'), ...NATIVE.map((b) => join(root, 'native', 'build', b))];
  for (const sub of ['engine', join('src', 'common')]) {
    for (const f of await readdir(join(root, sub), { recursive: true })) if (String(f).endsWith('.ts')) files.push(join(root, sub, String(f)));
  }
  files.sort();
  for (const f of files) {
    const st = await stat(f).catch(() => null);
    h.update(`${f}:${st?.size ?? -1}:${st?.mtimeMs ?? -1}\n`);
  }
  return h.digest('hex');
}

async function build(dir: string): Promise<Bundle> {
  const work = join(dir, `work-${process.pid}`);
  await mkdir(work, { recursive: true });
  try {
    const script = join(work, 'berthd.cjs');
    try {
      await bundleEngine(script);
    } catch (err) {
      throw new ProvisionError(`cannot bundle the engine (engine/main.ts): ${reason(err)}`, { hint: 'run `npm run build` and fix the errors it shows' });
    }
    const native = await Promise.all(NATIVE.map(async (b) => {
      const path = join(projectRoot(), 'native', 'build', b);
      return { name: `bin/${b}`, data: await readFile(path).catch(() => { throw new ProvisionError(`${b} is not built (${path})`, { hint: 'run `npm run build`' }); }), mode: 0o755 };
    }));
    const h = createHash('sha256').update(await readFile(script));
    for (const n of native) h.update(n.data);
    const inputs = h.update(process.version).update(process.execPath).digest('hex').slice(0, 16);
    const cached = join(dir, `berth-bundle-${inputs}.tar.gz`);
    if (await stat(cached).then(() => true, () => false)) return withZstd(await describe(cached));
    const sea = join(work, 'berthd');
    await makeSea(script, sea, work);
    const tar = await tarFiles([
      { name: 'bin/berthd', data: await readFile(sea), mode: 0o755 },
      ...native,
    ]);
    const tmp = `${cached}.${process.pid}.tmp`;
    await writeFile(tmp, gzipSync(tar, { level: 1 }));
    await rename(tmp, cached);
    // Older bundles are dead weight (about 40 MB each): keep only this one. Temp files
    // belong to concurrent builds (parallel creates) and are theirs to rename.
    for (const f of await readdir(dir)) {
      if (/^berth-bundle-[0-9a-f]+\.tar\.(gz|zst)$/.test(f) && join(dir, f) !== cached && join(dir, f) !== zstdName(cached)) await rm(join(dir, f), { force: true });
    }
    return withZstd(await describe(cached));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const ZSTD_LEVEL = 3;
const zstdName = (gz: string) => gz.replace(/\.tar\.gz$/, '.tar.zst');

/** The zstd copy of a bundle, made from the gzip one once; without zstd here, none. */
async function withZstd(b: Bundle): Promise<Bundle> {
  const zst = zstdName(b.path);
  if (await stat(zst).then(() => true, () => false)) return { ...b, zstdPath: zst };
  const tmp = `${zst}.${process.pid}.tmp`;
  try {
    const zstd = spawn('zstd', ['-q', `-${ZSTD_LEVEL}`, '-T0', '-f', '-o', tmp], { stdio: ['pipe', 'ignore', 'ignore'] });
    const exited = new Promise<void>((resolve, reject) => {
      zstd.on('error', reject);
      zstd.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`zstd exited ${code}`))));
    });
    await Promise.all([pipeline(createReadStream(b.path), createGunzip(), zstd.stdin), exited]);
    await rename(tmp, zst);
    return { ...b, zstdPath: zst };
  } catch {
    await rm(tmp, { force: true });
    return b; // no zstd on this computer: hosts get the gzip bundle
  }
}

async function describe(path: string): Promise<Bundle> {
  const data = await readFile(path).catch((err) => {
    throw new ProvisionError(`cannot read the engine bundle ${path}: ${reason(err)}`);
  });
  return { id: createHash('sha256').update(data).digest('hex'), path, size: data.length };
}
