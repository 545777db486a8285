/**
 * docker's plugin protocol: HTTP POST /<Interface>.<Method> with a JSON body on the
 * plugin's unix socket, Accept/Content-Type application/vnd.docker.plugins.v1.2+json;
 * a non-empty "Err" in the answer is the plugin's error.
 */
import { request } from 'node:http';
import { EngineError } from '../errors.js';

export const PLUGIN_MEDIA_TYPE = 'application/vnd.docker.plugins.v1.2+json';

export class PluginCallError extends EngineError {}

export interface CallOptions { timeoutMs?: number }

export function callPlugin<T = Record<string, unknown>>(socket: string, method: string, body: unknown = {}, opts: CallOptions = {}): Promise<T> {
  const payload = Buffer.from(JSON.stringify(body ?? {}));
  return new Promise<T>((resolve, reject) => {
    const req = request({
      socketPath: socket,
      path: `/${method}`,
      method: 'POST',
      agent: false,
      headers: { Host: 'plugin', Accept: PLUGIN_MEDIA_TYPE, 'Content-Type': PLUGIN_MEDIA_TYPE, 'Content-Length': payload.length, Connection: 'close' },
      timeout: opts.timeoutMs ?? 30000,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Record<string, unknown> = {};
        try {
          json = text.trim() ? JSON.parse(text) as Record<string, unknown> : {};
        } catch {
          if (res.statusCode === 200) return reject(new PluginCallError(`${method}: the plugin answered invalid JSON: ${text.slice(0, 200)}`));
        }
        const err = typeof json.Err === 'string' && json.Err ? json.Err : res.statusCode !== 200 ? (text.trim() || `HTTP ${res.statusCode}`) : '';
        if (err) return reject(new PluginCallError(`${method}: ${err}`));
        resolve(json as T);
      });
    });
    req.on('timeout', () => req.destroy(new PluginCallError(`${method}: the plugin did not answer within ${(opts.timeoutMs ?? 30000) / 1000}s`)));
    req.on('error', (err) => reject(err instanceof PluginCallError ? err : new PluginCallError(`${method}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err })));
    req.end(payload);
  });
}
