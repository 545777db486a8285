import { clientCommand } from '../../client/command.js';
import NetworkCreate from '../../client/commands/network/create.js';

export default clientCommand(NetworkCreate);
