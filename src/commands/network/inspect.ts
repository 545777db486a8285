import { clientCommand } from '../../client/command.js';
import NetworkInspect from '../../client/commands/network/inspect.js';

export default clientCommand(NetworkInspect);
