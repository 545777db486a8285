/** Push, save, load and search: registered with the image routes. */
import type { Engine } from '../../engine.js';
import type { Router } from '../router.js';

export function registerImageTransfer(_router: Router, _engine: Engine): void {
  // Filled in by the push/archive/search modules.
}
