/**
 * Monitors that outlived everything else of their container: a kill -9 of berthd while
 * the runtime's delete removed the state directory (or after it did, while the monitor
 * was still leaving) leaves a `berth-monitor` that no state directory, record, bundle or
 * snapshot names, so nothing else at start finds it. It is found the way it names itself:
 * comm `berth-monitor`, `--root` this engine's runtime root, the container id last.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

export interface StrayMonitor { pid: number; id: string }

export function strayMonitors(runtimeRoot: string, known: Set<string>): StrayMonitor[] {
  const out: StrayMonitor[] = [];
  // The root is a path: in another mount namespace (another engine's host sharing this
  // pid namespace, as namespace hosts do) the same path is another engine's.
  const ownMounts = readlinkSync('/proc/self/ns/mnt');
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'berth-monitor') continue;
      if (readlinkSync(`/proc/${entry}/ns/mnt`) !== ownMounts) continue;
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (argv[argv.indexOf('--root') + 1] !== runtimeRoot) continue;
      const id = argv.at(-1) ?? '';
      if (/^[0-9a-f]{64}$/.test(id) && !known.has(id)) out.push({ pid: Number(entry), id });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** SIGKILL to the monitor's children (the container's init: its pid namespace goes with it), then to the monitor. */
export function endStray(m: StrayMonitor): void {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${m.pid}/task/${m.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // gone meanwhile
  }
  for (const pid of [...children, m.pid]) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
  }
}
