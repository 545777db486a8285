import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root, found from this file whether it runs from sources or from dist/. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (dir !== '/') {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'native'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('berth: cannot find the project root (package.json beside native/)');
}

/** The berth-runtime binary: $BERTH_RUNTIME, else the one built in native/build. */
export function runtimePath(): string {
  return process.env.BERTH_RUNTIME ? resolve(process.env.BERTH_RUNTIME) : join(projectRoot(), 'native', 'build', 'berth-runtime');
}
