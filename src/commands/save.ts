import { clientCommand } from '../client/command.js';
import Save from '../client/commands/save.js';

export default clientCommand(Save);
