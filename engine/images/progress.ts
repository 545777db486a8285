/** docker's progress messages for pull/push. */
import type { OnProgress } from './index.js';

export function progressBar(current: number, total: number | undefined): string {
  if (!total) return humanSize(current);
  const width = 50;
  const filled = Math.max(0, Math.min(width, Math.floor((current / total) * width)));
  const bar = '='.repeat(Math.max(0, filled - 1)) + (filled > 0 ? '>' : '') + ' '.repeat(width - filled);
  return `[${bar}] ${humanSize(current)}/${humanSize(total)}`;
}

export function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 3 : v < 100 ? 2 : 1).replace(/\.?0+$/, '')}${units[i]}`;
}

/** Throttles per-layer byte progress to a few messages a second. */
export function byteProgress(on: OnProgress | undefined, id: string, status: string, total: number | undefined): (n: number) => void {
  let last = 0;
  return (current: number) => {
    const now = Date.now();
    if (!on || (now - last < 100 && current !== total)) return;
    last = now;
    on({ status, id, progressDetail: { current, total }, progress: progressBar(current, total) });
  };
}
