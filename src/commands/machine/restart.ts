import { lifecycleCommand } from '../../machine/cli/lifecycle.js';

export default class Restart extends lifecycleCommand('restart', 'Restart machines', 'Restarted') {}
