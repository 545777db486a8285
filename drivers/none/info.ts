import type { DriverInfo } from '../driver.js';

/** What `create` shows and accepts for the none driver, without loading the driver. */
export const noneInfo: DriverInfo = {
  name: 'none',
  description: 'an engine that already runs, registered by its URL (no provisioning)',
  flags: [{ name: 'none-url', aliases: ['url'], type: 'string', usage: 'URL of the engine, tcp://HOST:PORT (Docker Machine\'s --url)', envVar: 'NONE_URL', required: true }],
};
