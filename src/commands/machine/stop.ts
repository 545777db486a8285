import { lifecycleCommand } from '../../machine/cli/lifecycle.js';

export default class Stop extends lifecycleCommand('stop', 'Stop machines', 'Stopped') {}
