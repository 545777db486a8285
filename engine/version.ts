import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../src/common/paths.js';

/** Replaced with package.json's version by the bundle build (esbuild define). */
declare const __BERTH_VERSION__: string | undefined;

/** berthd's version: $BERTH_VERSION, else the bundle's, else package.json's. */
export const BERTH_VERSION: string = (() => {
  if (process.env.BERTH_VERSION) return process.env.BERTH_VERSION;
  if (typeof __BERTH_VERSION__ === 'string') return __BERTH_VERSION__;
  try {
    return JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')).version as string;
  } catch {
    return 'dev';
  }
})();
