import { clientCommand } from '../client/command.js';
import Run from '../client/commands/run.js';

export default clientCommand(Run);
