/** Host-side facts the tests compare the container's view with. */
import { readFileSync, readlinkSync as fsReadlink } from 'node:fs';

export function readlinkSync(path: string): string {
  return fsReadlink(path);
}

/** The calling process's limit, from /proc/self/limits ("unlimited" → Infinity). */
export function getrlimit(resource: 'nofile' | 'core'): { soft: number; hard: number } {
  const label = resource === 'nofile' ? 'Max open files' : 'Max core file size';
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(label));
  if (!line) throw new Error(`no ${label} in /proc/self/limits`);
  const [soft, hard] = line.slice(label.length).trim().split(/\s+/).map((v) => (v === 'unlimited' ? Infinity : Number(v)));
  return { soft, hard };
}
