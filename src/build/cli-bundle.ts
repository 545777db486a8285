// Writes dist/cli/ (`npm run build` runs it after tsc): bin/berth's machine fast path
// (argv rewriting and the read-only machine commands) bundled by esbuild from the
// compiled modules into one CommonJS file. Node loads one file faster than some sixty
// modules (each resolved, read and compiled on its own), and a CommonJS script can be
// compiled with V8's code cache, which bin/berth keeps beside it (machine.cjs.v8cache; create,
// which runs far more of it, keeps machine.cjs.create.v8cache).
// A dynamic import stays lazy (esbuild defers the module's code until it is imported),
// so a driver's code still runs only when that driver is used. The dynamic imports left
// (packages imported as ES modules: plugin drivers, the VirtualBox SDK) call
// __berth_import, which bin/berth passes in: code compiled by node:vm has no import()
// of its own on Node 20 without an experimental flag.
// inputs.json lists the files the bundle was made from: bin/berth uses the bundle only
// while none of them changed since (a later `tsc` alone makes it fall back to dist/src).
import { mkdirSync, readFileSync, rmSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { projectRoot } from '../common/paths.js';

const esbuild = await import('esbuild').catch(() => undefined);
const root = projectRoot();
const out = join(root, 'dist', 'cli');
const tmp = `${out}.tmp-${process.pid}`;
const builtAt = Date.now();
if (!esbuild) {
  // An install without dev dependencies: bin/berth runs the compiled modules instead.
  process.stdout.write('dist/cli: esbuild is not installed, the machine fast path is not bundled\n');
  process.exit(0);
}
// Node's own modules load when first used, not when the module importing them starts:
// child_process (4.5 ms here), fs/promises, and for url/config/inspect crypto, net and
// tls, are then loaded only by the commands that call them. Each binding esbuild makes
// for `import { x } from 'node:m'` becomes a proxy that requires the module at its first
// use. fs, path and url are loaded by node's own start-up: they stay plain.
const EAGER_BUILTINS = new Set(['node:fs', 'node:path', 'node:url']);
const LAZY_REQUIRE = `const __berth_lazy = (id) => {
  let m;
  const load = () => (m ??= require(id));
  return new Proxy({}, {
    get: (_, k) => load()[k],
    has: (_, k) => k in load(),
    set: (_, k, v) => { load()[k] = v; return true; },
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_, k) => { const d = Reflect.getOwnPropertyDescriptor(load(), k); return d && { ...d, configurable: true }; },
  });
};`;
rmSync(tmp, { recursive: true, force: true });
mkdirSync(tmp, { recursive: true });
const result = await esbuild.build({
  absWorkingDir: root,
  stdin: {
    contents: "export { rewriteArgv } from './dist/src/machine/cli/argv.js';\nexport { runMachineFast } from './dist/src/machine/cli/fast.js';\n",
    resolveDir: root,
    sourcefile: 'machine-fast-entry.js',
  },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  outfile: join(tmp, 'machine.cjs'),
  // import.meta has no CommonJS meaning: the bundle's own URL stands in (projectRoot walks up from it).
  define: { 'import.meta.url': '__berth_bundle_url' },
  banner: { js: `const __berth_bundle_url = require('node:url').pathToFileURL(__filename).href;\n${LAZY_REQUIRE}` },
  // No comments or indentation: a smaller file to read, and all ASCII (one non-ASCII
  // character in a comment made V8 hold the whole source as two-byte).
  minifyWhitespace: true,
  metafile: true,
  logLevel: 'error',
});
const file = join(tmp, 'machine.cjs');
const code = readFileSync(file, 'utf8');
const replaced = code.replace(/\bawait import\(/g, 'await __berth_import(')
  .replace(/\b(import_[\w$]+)=require\("(node:[\w/]+)"\)/g, (all, id: string, spec: string) => (EAGER_BUILTINS.has(spec) ? all : `${id}=__berth_lazy("${spec}")`));
if (/\bimport\(/.test(replaced)) throw new Error('dist/cli: a dynamic import the bundle keeps is not of the form `await import(`: write it so, or teach src/build/cli-bundle.ts');
if (/[^\x00-\x7f]/.test(replaced)) throw new Error('dist/cli: the bundle is not all ASCII (a string esbuild kept as is?): V8 would hold it as two-byte');
// Written as the function bin/berth compiles, so it reads it without building a copy around it.
writeFileSync(file, `(function (exports, require, module, __filename, __dirname, __berth_import) {${replaced}\n})`);
const inputs = Object.keys(result.metafile.inputs).filter((f) => f !== 'machine-fast-entry.js').map((f) => relative(root, join(root, f)));
writeFileSync(join(tmp, 'inputs.json'), JSON.stringify({ builtAt, inputs }) + '\n');
rmSync(out, { recursive: true, force: true });
renameSync(tmp, out);
process.stdout.write(`dist/cli: machine fast path bundled from ${inputs.length} modules\n`);
