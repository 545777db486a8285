/**
 * Plugin endpoints. berthd has no managed plugins: the list is empty, a named plugin is
 * not found (dockerd's wording), and installing one is 501 naming what is missing.
 */
import type { Engine } from '../../engine.js';
import { NotFoundError, NotImplementedError } from '../../errors.js';
import { queryFilters, checkFilterKeys } from '../query.js';
import type { Ctx, Router } from '../router.js';

const MISSING = 'managed plugins are not supported by berthd (no plugin install, pull, create, push or upgrade): volumes use the built-in "local" driver';

export function register(router: Router, _engine: Engine): void {
  router.get('/plugins', (ctx) => {
    checkFilterKeys(queryFilters(ctx.query), ['capability', 'enable']);
    return [];
  });
  const notFound = (ctx: Ctx) => {
    throw new NotFoundError(`plugin "${ctx.params.name}" not found`);
  };
  const unsupported = () => {
    throw new NotImplementedError(MISSING);
  };
  router.get('/plugins/privileges', unsupported);
  router.post('/plugins/pull', unsupported);
  router.post('/plugins/create', unsupported);
  router.get('/plugins/:name+/json', notFound);
  router.delete('/plugins/:name+', notFound);
  router.post('/plugins/:name+/enable', notFound);
  router.post('/plugins/:name+/disable', notFound);
  router.post('/plugins/:name+/set', notFound);
  router.post('/plugins/:name+/upgrade', unsupported);
  router.post('/plugins/:name+/push', notFound);
}
