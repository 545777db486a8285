import { lifecycleCommand } from '../../machine/cli/lifecycle.js';

export default class Start extends lifecycleCommand('start', 'Start machines', 'Started') {}
