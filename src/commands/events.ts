import { clientCommand } from '../client/command.js';
import Events from '../client/commands/events.js';

export default clientCommand(Events);
