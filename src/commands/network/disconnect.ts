import { clientCommand } from '../../client/command.js';
import NetworkDisconnect from '../../client/commands/network/disconnect.js';

export default clientCommand(NetworkDisconnect);
