import { clientCommand } from '../client/command.js';
import Rmi from '../client/commands/rmi.js';

export default clientCommand(Rmi);
