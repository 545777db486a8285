import { clientCommand } from '../client/command.js';
import Load from '../client/commands/load.js';

export default clientCommand(Load);
