import { clientCommand } from '../client/command.js';
import Images from '../client/commands/images.js';

export default clientCommand(Images);
