/**
 * Stage timings of berthd's own work, for bench/run.sh's breakdown: with
 * BERTHD_TRACE=FILE set at start, each traced stage appends one JSON line
 * {"stage","id","start","ms"} (start in ms since berthd's time origin). Off (the
 * default), `traced` is one branch and a direct call: nothing is timed or allocated.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { performance } from 'node:perf_hooks';

const file = process.env.BERTHD_TRACE;
let out: WriteStream | undefined;

export const tracing = !!file;

export function traceRecord(stage: string, id: string, start: number, end = performance.now()): void {
  out ??= createWriteStream(file!, { flags: 'a' });
  out.write(`${JSON.stringify({ stage, id: id.slice(0, 12), start: +start.toFixed(3), ms: +(end - start).toFixed(3) })}\n`);
}

/** Runs `fn`, recording how long it took as `stage` of `id` when tracing. */
export function traced<T>(stage: string, id: string, fn: () => Promise<T>): Promise<T> {
  if (!tracing) return fn();
  const start = performance.now();
  return fn().finally(() => traceRecord(stage, id, start));
}

export const now = (): number => performance.now();
