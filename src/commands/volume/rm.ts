import { clientCommand } from '../../client/command.js';
import VolumeRm from '../../client/commands/volume/rm.js';

export default clientCommand(VolumeRm);
