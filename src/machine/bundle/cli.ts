// Prebuilds the engine bundle (`npm run bundle`) and prints where it is.
import { ensureBundle } from './build.js';

const b = await ensureBundle();
process.stdout.write(`${b.path} ${b.id} ${b.size}\n`);
