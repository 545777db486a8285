import { clientCommand } from '../client/command.js';
import Ps from '../client/commands/ps.js';

export default clientCommand(Ps);
