import { clientCommand } from '../client/command.js';
import Create from '../client/commands/create.js';

export default clientCommand(Create);
