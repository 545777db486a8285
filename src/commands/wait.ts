import { clientCommand } from '../client/command.js';
import Wait from '../client/commands/wait.js';

export default clientCommand(Wait);
