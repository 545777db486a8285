import type { Readable } from 'node:stream';
import { streamLines } from './lines.js';

/**
 * Newline-delimited JSON progress (pull, push): printed line by line like the docker
 * CLI does without a terminal ("ID: Status"), per-byte progress updates left out.
 * An {"error"} message ends the stream with a ProgressError.
 */
export class ProgressError extends Error {}

export interface ProgressMessage {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
  aux?: unknown;
  /** load, build: text lines ("Loaded image: a:b\n"). */
  stream?: string;
}

const NOISY = /^(Downloading|Extracting|Pushing|Waiting)$/;

export function progressLine(m: ProgressMessage): string | undefined {
  if (m.stream !== undefined) return m.stream.replace(/\n$/, '') || undefined;
  if (!m.status || NOISY.test(m.status)) return undefined;
  return m.id ? `${m.id}: ${m.status}` : m.status;
}

export async function printProgress(stream: Readable, write: (line: string) => void, json = false): Promise<ProgressMessage[]> {
  const seen: ProgressMessage[] = [];
  const handle = (line: string) => {
    let m: ProgressMessage;
    try {
      m = JSON.parse(line);
    } catch {
      throw new ProgressError(`the engine sent a progress line that is not JSON: ${line.slice(0, 200)}`);
    }
    if (m.error || m.errorDetail?.message) throw new ProgressError(m.errorDetail?.message || m.error!);
    seen.push(m);
    if (json) return write(JSON.stringify(m));
    const text = progressLine(m);
    if (text !== undefined) write(text);
  };
  for await (const line of streamLines(stream)) handle(line);
  return seen;
}
