import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../src/common/paths.js';

/** berthd's version: $BERTH_VERSION (set by bundles), else package.json's. */
export const BERTH_VERSION: string = (() => {
  if (process.env.BERTH_VERSION) return process.env.BERTH_VERSION;
  try {
    return JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')).version as string;
  } catch {
    return 'dev';
  }
})();
