/**
 * Shared by the build e2e tests: contexts written to temp dirs, and counting what a
 * classic-builder output says about each step.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A context directory with `files` (path -> content). */
export function makeContext(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-build-'));
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
