import { clientCommand } from '../client/command.js';
import Logs from '../client/commands/logs.js';

export default clientCommand(Logs);
