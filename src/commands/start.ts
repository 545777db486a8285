import { clientCommand } from '../client/command.js';
import Start from '../client/commands/start.js';

export default clientCommand(Start);
