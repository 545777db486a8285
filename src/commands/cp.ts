import { clientCommand } from '../client/command.js';
import Cp from '../client/commands/cp.js';

export default clientCommand(Cp);
