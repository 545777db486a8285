import { clientCommand } from '../../client/command.js';
import VolumePrune from '../../client/commands/volume/prune.js';

export default clientCommand(VolumePrune);
