import { clientCommand } from '../client/command.js';
import Top from '../client/commands/top.js';

export default clientCommand(Top);
