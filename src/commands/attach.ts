import { clientCommand } from '../client/command.js';
import Attach from '../client/commands/attach.js';

export default clientCommand(Attach);
