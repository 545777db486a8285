import { clientCommand } from '../client/command.js';
import Info from '../client/commands/info.js';

export default clientCommand(Info);
