/** Machine states, as Docker Machine names them; drivers map their provider's words onto these. */
export const MACHINE_STATES = ['Running', 'Paused', 'Saved', 'Stopped', 'Stopping', 'Starting', 'Error', 'Timeout'] as const;
export type MachineState = (typeof MACHINE_STATES)[number];
