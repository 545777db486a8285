import type { DriverInfo } from '../driver.js';

/** What `create` shows and accepts for the generic driver, without loading the driver. */
export const genericInfo: DriverInfo = {
  name: 'generic',
  description: 'an existing host over SSH',
  flags: [
    { name: 'generic-ip-address', type: 'string', usage: 'IP address of the host', envVar: 'GENERIC_IP_ADDRESS', required: true },
    { name: 'generic-ssh-user', type: 'string', usage: 'SSH user', envVar: 'GENERIC_SSH_USER', default: 'root' },
    { name: 'generic-ssh-key', type: 'string', usage: 'SSH private key path (default: a new key made for the machine)', envVar: 'GENERIC_SSH_KEY' },
    { name: 'generic-ssh-port', type: 'int', usage: 'SSH port', envVar: 'GENERIC_SSH_PORT', default: 22 },
    { name: 'generic-engine-port', type: 'int', usage: 'engine port', envVar: 'GENERIC_ENGINE_PORT', default: 2376 },
  ],
};
