import { clientCommand } from '../client/command.js';
import Tag from '../client/commands/tag.js';

export default clientCommand(Tag);
