import { clientCommand } from '../client/command.js';
import Import from '../client/commands/import.js';

export default clientCommand(Import);
