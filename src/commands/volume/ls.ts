import { clientCommand } from '../../client/command.js';
import VolumeLs from '../../client/commands/volume/ls.js';

export default clientCommand(VolumeLs);
