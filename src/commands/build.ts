import { clientCommand } from '../client/command.js';
import Build from '../client/commands/build.js';

export default clientCommand(Build);
