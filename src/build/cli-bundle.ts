// Writes dist/cli/ (`npm run build` runs it after tsc): bin/berth's machine fast path
// (argv rewriting and the read-only machine commands) bundled by esbuild from the
// compiled modules. Node loads a few large modules faster than some sixty small ones
// (each is resolved, read and compiled on its own): this halves `machine ls` start-up.
// Dynamic imports stay lazy (split chunks), so a driver is still loaded only when used.
// inputs.json lists the files the bundle was made from: bin/berth uses the bundle only
// while none of them changed since (a later `tsc` alone makes it fall back to dist/src).
import { rmSync, renameSync, writeFileSync } from 'node:fs';
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
rmSync(tmp, { recursive: true, force: true });
const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: { argv: 'dist/src/machine/cli/argv.js', machine: 'dist/src/machine/cli/fast.js' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  outdir: tmp,
  metafile: true,
  logLevel: 'error',
});
const inputs = Object.keys(result.metafile.inputs).map((f) => relative(root, join(root, f)));
writeFileSync(join(tmp, 'inputs.json'), JSON.stringify({ builtAt, inputs }) + '\n');
rmSync(out, { recursive: true, force: true });
renameSync(tmp, out);
process.stdout.write(`dist/cli: machine fast path bundled from ${inputs.length} modules\n`);
