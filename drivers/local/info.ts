import type { DriverInfo } from '../driver.js';

/** What `create` shows and accepts for the local driver, without loading the driver. */
export const localInfo: DriverInfo = {
  name: 'local',
  description: 'this host, no SSH (the default)',
  flags: [
    { name: 'local-engine-port', type: 'int', usage: 'engine TCP port', envVar: 'LOCAL_ENGINE_PORT', default: 2376 },
    { name: 'local-ip-address', type: 'string', usage: 'address clients use to reach the engine', envVar: 'LOCAL_IP_ADDRESS', default: '127.0.0.1' },
    { name: 'local-prefix', type: 'string', usage: 'install the engine, its certs and data under this directory', envVar: 'LOCAL_PREFIX', default: '' },
  ],
};
