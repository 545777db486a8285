import { clientCommand } from '../client/command.js';
import History from '../client/commands/history.js';

export default clientCommand(History);
