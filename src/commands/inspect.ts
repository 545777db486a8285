import { clientCommand } from '../client/command.js';
import Inspect from '../client/commands/inspect.js';

export default clientCommand(Inspect);
