import { clientCommand } from '../client/command.js';
import Exec from '../client/commands/exec.js';

export default clientCommand(Exec);
