import { clientCommand } from '../../client/command.js';
import VolumeInspect from '../../client/commands/volume/inspect.js';

export default clientCommand(VolumeInspect);
