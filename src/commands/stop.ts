import { clientCommand } from '../client/command.js';
import Stop from '../client/commands/stop.js';

export default clientCommand(Stop);
