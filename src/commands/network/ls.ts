import { clientCommand } from '../../client/command.js';
import NetworkLs from '../../client/commands/network/ls.js';

export default clientCommand(NetworkLs);
