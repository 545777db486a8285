/**
 * Shared by the build e2e tests: contexts written to temp dirs, and counting what a
 * classic-builder output says about each step.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const made: string[] = [];
// Each test file has its own module instance: its contexts go when its tests end.
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A context directory with `files` (path -> content), in a parent of its own (for files beside it). */
export function makeContext(files: Record<string, string | Buffer>): string {
  const parent = mkdtempSync(join(tmpdir(), 'berth-build-'));
  made.push(parent);
  const dir = join(parent, 'context');
  mkdirSync(dir);
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
  return dir;
}

/** For each "Step N/M : X" of the output, whether it answered "Using cache". */
export function stepCache(output: string): Array<{ step: string; cached: boolean }> {
  const out: Array<{ step: string; cached: boolean }> = [];
  for (const line of output.split('\n')) {
    const m = /^Step \d+\/\d+ : (.*)$/.exec(line);
    if (m) out.push({ step: m[1], cached: false });
    else if (line.trim() === '---> Using cache' && out.length) out[out.length - 1].cached = true;
  }
  return out;
}
