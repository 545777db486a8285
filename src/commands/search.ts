import { clientCommand } from '../client/command.js';
import Search from '../client/commands/search.js';

export default clientCommand(Search);
