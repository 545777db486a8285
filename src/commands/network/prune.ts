import { clientCommand } from '../../client/command.js';
import NetworkPrune from '../../client/commands/network/prune.js';

export default clientCommand(NetworkPrune);
