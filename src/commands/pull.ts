import { clientCommand } from '../client/command.js';
import Pull from '../client/commands/pull.js';

export default clientCommand(Pull);
