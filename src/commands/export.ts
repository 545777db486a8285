import { clientCommand } from '../client/command.js';
import Export from '../client/commands/export.js';

export default clientCommand(Export);
