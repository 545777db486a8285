import { clientCommand } from '../../client/command.js';
import NetworkConnect from '../../client/commands/network/connect.js';

export default clientCommand(NetworkConnect);
