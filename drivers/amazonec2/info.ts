import type { DriverInfo } from '../driver.js';
import { EC2_FLAGS } from './flags.js';

/** What `create` shows and accepts for the amazonec2 driver, without loading the driver. */
export const amazonec2Info: DriverInfo = {
  name: 'amazonec2',
  description: 'an Amazon EC2 instance (or an EC2-compatible cloud)',
  flags: EC2_FLAGS,
};
