import { clientCommand } from '../client/command.js';
import Kill from '../client/commands/kill.js';

export default clientCommand(Kill);
