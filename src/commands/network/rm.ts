import { clientCommand } from '../../client/command.js';
import NetworkRm from '../../client/commands/network/rm.js';

export default clientCommand(NetworkRm);
