import { familiarString, withDefaultTag } from '../common/reference.js';
import { EngineApiError, type EngineClient } from './engine.js';
import { parseImageRef, pullImage } from './images.js';
import type { CreateRequest } from './container-config.js';

/**
 * POST /containers/create; a missing image is pulled (progress on stderr) and the
 * create tried again, as `docker run` does with --pull missing.
 */
export async function createContainer(client: EngineClient, req: CreateRequest, pull: string = 'missing'): Promise<{ Id: string; Warnings?: string[] }> {
  const image = String(req.body.Image);
  const ref = parseImageRef(image);
  const log = (line: string) => process.stderr.write(line + '\n');
  if (pull === 'always') await pullImage(client, image, log, { platform: req.platform });
  const create = () => client.json<{ Id: string; Warnings?: string[] }>('POST', '/containers/create', { query: { name: req.name, platform: req.platform }, body: req.body });
  try {
    return await create();
  } catch (err) {
    if (!(err instanceof EngineApiError && err.status === 404 && pull === 'missing' && /image/i.test(err.message))) throw err;
    log(`Unable to find image '${familiarString(withDefaultTag(ref))}' locally`);
    await pullImage(client, image, log, { platform: req.platform });
    return create();
  }
}
