/** Docker's restart policies and back-off (100 ms doubling to 1 min; reset after 10 s of running). */
import { InvalidArgumentError } from '../errors.js';
import type { ContainerRecord } from './record.js';
import type { RestartPolicy } from './types.js';

const MIN_DELAY_MS = 100;
const MAX_DELAY_MS = 60_000;
const RESET_AFTER_MS = 10_000;

export function validateRestartPolicy(p: RestartPolicy | undefined, autoRemove: boolean): void {
  const name = p?.Name ?? '';
  if (!['', 'no', 'always', 'unless-stopped', 'on-failure'].includes(name)) {
    throw new InvalidArgumentError(`invalid restart policy '${name}': use no, always, unless-stopped or on-failure[:max-retries]`);
  }
  const max = p?.MaximumRetryCount ?? 0;
  if (max < 0) throw new InvalidArgumentError(`invalid restart policy: maximum retry count can't be negative`);
  if (max > 0 && name !== 'on-failure') throw new InvalidArgumentError(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  if (autoRemove && name !== '' && name !== 'no') throw new InvalidArgumentError("can't create 'AutoRemove' container with restart policy");
}

/** Whether an exit should bring the container back. */
export function shouldRestart(rec: ContainerRecord, exitCode: number): boolean {
  if (rec.manuallyStopped) return false;
  const p = rec.hostConfig.RestartPolicy ?? {};
  switch (p.Name) {
    case 'always':
    case 'unless-stopped':
      return true;
    case 'on-failure':
      return exitCode !== 0 && (!p.MaximumRetryCount || rec.restartCount < p.MaximumRetryCount);
    default:
      return false;
  }
}

/** On engine start: which stopped containers come back. */
export function startsWithEngine(rec: ContainerRecord): boolean {
  const name = rec.hostConfig.RestartPolicy?.Name;
  if (name === 'always') return true;
  if (name === 'unless-stopped') return !rec.manuallyStopped;
  return false;
}

export class Backoff {
  private delays = new Map<string, number>();

  /** The delay before the next restart of `id`, given how long it last ran. */
  next(id: string, ranMs: number): number {
    const prev = this.delays.get(id);
    const delay = prev === undefined || ranMs >= RESET_AFTER_MS ? MIN_DELAY_MS : Math.min(prev * 2, MAX_DELAY_MS);
    this.delays.set(id, delay);
    return delay;
  }

  forget(id: string): void {
    this.delays.delete(id);
  }
}
