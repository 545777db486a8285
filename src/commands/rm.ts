import { clientCommand } from '../client/command.js';
import Rm from '../client/commands/rm.js';

export default clientCommand(Rm);
