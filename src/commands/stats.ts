import { clientCommand } from '../client/command.js';
import Stats from '../client/commands/stats.js';

export default clientCommand(Stats);
