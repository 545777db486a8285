import { clientCommand } from '../../client/command.js';
import SystemPrune from '../../client/commands/system/prune.js';

export default clientCommand(SystemPrune);
