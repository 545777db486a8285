import { clientCommand } from '../../client/command.js';
import VolumeCreate from '../../client/commands/volume/create.js';

export default clientCommand(VolumeCreate);
