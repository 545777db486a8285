import { clientCommand } from '../client/command.js';
import Push from '../client/commands/push.js';

export default clientCommand(Push);
