import { lifecycleCommand } from '../../machine/cli/lifecycle.js';

export default class Kill extends lifecycleCommand('kill', 'Kill machines (hard stop)', 'Killed') {}
