/**
 * A container's state as a union, and the one function that moves it. An illegal
 * step fails plainly ("cannot pause container abc: it is not running").
 */
import { ConflictError } from '../errors.js';

interface Times { startedAt: string; finishedAt: string }
const ZERO_TIME = '0001-01-01T00:00:00Z';

export type ContainerState =
  | ({ status: 'created' } & Times)
  | ({ status: 'running'; pid: number } & Times)
  | ({ status: 'paused'; pid: number } & Times)
  | ({ status: 'restarting'; exitCode: number; oomKilled: boolean } & Times)
  | ({ status: 'exited'; exitCode: number; oomKilled: boolean; error?: string } & Times)
  | ({ status: 'removing'; exitCode: number } & Times)
  | ({ status: 'dead'; exitCode: number } & Times);

export type StateEvent =
  | { type: 'start'; pid: number; at: string }
  | { type: 'exit'; exitCode: number; oomKilled: boolean; at: string }
  | { type: 'start-failed'; error: string; exitCode: number; at: string }
  | { type: 'pause' }
  | { type: 'unpause' }
  | { type: 'restarting' }
  | { type: 'remove' }
  | { type: 'dead' };

export function initialState(): ContainerState {
  return { status: 'created', startedAt: ZERO_TIME, finishedAt: ZERO_TIME };
}

function illegal(id: string, state: ContainerState, event: StateEvent): never {
  const verb = event.type === 'unpause' ? 'unpause' : event.type;
  throw new ConflictError(`cannot ${verb} container ${id.slice(0, 12)}: it is ${state.status}`);
}

export function transition(id: string, state: ContainerState, event: StateEvent): ContainerState {
  const times: Times = { startedAt: state.startedAt, finishedAt: state.finishedAt };
  switch (event.type) {
    case 'start':
      if (state.status === 'created' || state.status === 'exited' || state.status === 'restarting') {
        return { status: 'running', pid: event.pid, startedAt: event.at, finishedAt: state.finishedAt };
      }
      return illegal(id, state, event);
    case 'exit':
      if (state.status === 'running' || state.status === 'paused') {
        return { status: 'exited', exitCode: event.exitCode, oomKilled: event.oomKilled, startedAt: state.startedAt, finishedAt: event.at };
      }
      if (state.status === 'removing' || state.status === 'dead') return state;
      return illegal(id, state, event);
    case 'start-failed':
      if (state.status === 'created' || state.status === 'exited' || state.status === 'restarting') {
        return { status: 'exited', exitCode: event.exitCode, oomKilled: false, error: event.error, startedAt: state.startedAt, finishedAt: event.at };
      }
      return illegal(id, state, event);
    case 'pause':
      if (state.status === 'running') return { status: 'paused', pid: state.pid, ...times };
      throw new ConflictError(`Container ${id.slice(0, 12)} is not running`);
    case 'unpause':
      if (state.status === 'paused') return { status: 'running', pid: state.pid, ...times };
      throw new ConflictError(`Container ${id.slice(0, 12)} is not paused`);
    case 'restarting':
      if (state.status === 'exited') return { status: 'restarting', exitCode: state.exitCode, oomKilled: state.oomKilled, ...times };
      return illegal(id, state, event);
    case 'remove':
      if (state.status === 'running' || state.status === 'paused' || state.status === 'removing') return illegal(id, state, event);
      return { status: 'removing', exitCode: 'exitCode' in state ? state.exitCode : 0, ...times };
    case 'dead':
      return { status: 'dead', exitCode: 'exitCode' in state ? state.exitCode : 0, ...times };
  }
}

export function isActive(state: ContainerState): state is Extract<ContainerState, { pid: number }> {
  return state.status === 'running' || state.status === 'paused';
}

/** The State object of GET /containers/{id}/json. */
export function dockerState(state: ContainerState): Record<string, unknown> {
  const s = state.status;
  const running = s === 'running' || s === 'paused';
  return {
    Status: s,
    Running: running,
    Paused: s === 'paused',
    Restarting: s === 'restarting',
    OOMKilled: 'oomKilled' in state ? state.oomKilled : false,
    Dead: s === 'dead',
    Pid: running ? state.pid : 0,
    ExitCode: 'exitCode' in state && !running ? state.exitCode : 0,
    Error: s === 'exited' ? state.error ?? '' : '',
    StartedAt: state.startedAt,
    FinishedAt: state.finishedAt,
  };
}

export { ZERO_TIME };
