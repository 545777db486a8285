import { readFileSync, statSync } from 'node:fs';

/** Whether process `pid` runs (EPERM: it exists, owned by another user). */
export function processRuns(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether the process that wrote `path` (its pid recorded in or beside it) still runs.
 * A process with that pid which started after the file was last written is not its
 * writer but a later one given the same pid, so the writer is gone.
 */
export function writerRuns(pid: number, path: string): boolean {
  if (!processRuns(pid)) return false;
  if (pid === process.pid) return true;
  const started = startedAtMs(pid);
  if (started === undefined) return true; // no /proc (or the process just left): trust the pid
  let written: number;
  try {
    written = statSync(path).mtimeMs;
  } catch {
    return true; // the file went meanwhile: its owner decides
  }
  // Start times are a second coarse (the boot time is in whole seconds), and a clock
  // stepped back meanwhile must not make a live writer look younger than its file.
  return started <= written + 5000;
}

let bootMs: number | undefined;

/** When process `pid` started (ms since the epoch), from /proc; undefined where there is none. */
export function startedAtMs(pid: number): number | undefined {
  try {
    bootMs ??= Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))![1]) * 1000;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name, which may hold spaces and parentheses; starttime is field 22
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    return Number.isFinite(ticks) && Number.isFinite(bootMs) ? bootMs + ticks * 10 : undefined; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}
