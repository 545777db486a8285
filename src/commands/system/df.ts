import { clientCommand } from '../../client/command.js';
import SystemDf from '../../client/commands/system/df.js';

export default clientCommand(SystemDf);
