import { clientCommand } from '../client/command.js';
import Commit from '../client/commands/commit.js';

export default clientCommand(Commit);
