/**
 * Reads a container's json-file log (written by the monitor: one JSON object per
 * chunk, rotated to path.1, path.2 …) with docker's options; follows while it runs.
 */
import { open, readFile, stat } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import { frame, STDERR, STDOUT } from './frames.js';

export interface LogOptions {
  stdout: boolean;
  stderr: boolean;
  /** Unix time in nanoseconds (docker's precision); 0n = no bound. */
  since: bigint;
  until: bigint;
  timestamps: boolean;
  /** Number of lines from the end; -1 = all. */
  tail: number;
  follow: boolean;
  tty: boolean;
}

export interface LogEntry { log: string; stream: 'stdout' | 'stderr'; time: string }
type Entry = LogEntry;

function parseLines(text: string): Entry[] {
  const out: Entry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as Entry);
    } catch {
      // A torn last line (monitor killed mid-write) is skipped, not fatal.
    }
  }
  return out;
}

/** RFC 3339 with up to 9 fraction digits -> unix nanoseconds (Date.parse keeps only ms). */
export function rfc3339Nanos(t: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(t);
  if (!m) return BigInt(Date.parse(t)) * 1_000_000n;
  const secs = BigInt(Date.parse(`${m[1]}${m[3]}`) / 1000);
  return secs * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0').slice(0, 9) || '0');
}

/** docker's query form "seconds[.nanoseconds]" -> unix nanoseconds. */
export function unixParamNanos(v: string): bigint {
  const [sec, frac = ''] = v.split('.');
  return BigInt(sec) * 1_000_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 9) || '0');
}

function timeOf(e: Entry): bigint {
  return rfc3339Nanos(e.time);
}

export function encodeEntry(e: Entry, opts: Pick<LogOptions, 'timestamps' | 'tty'>): Buffer {
  const payload = Buffer.from(opts.timestamps ? `${e.time} ${e.log}` : e.log);
  return opts.tty ? payload : frame(e.stream === 'stderr' ? STDERR : STDOUT, payload);
}

async function rotatedFiles(path: string): Promise<string[]> {
  const files: string[] = [];
  for (let i = 1; ; i++) {
    try {
      await stat(`${path}.${i}`);
      files.unshift(`${path}.${i}`);
    } catch {
      break;
    }
  }
  return [...files, path];
}

function accept(e: Entry, o: LogOptions): boolean {
  if (e.stream === 'stdout' && !o.stdout) return false;
  if (e.stream === 'stderr' && !o.stderr) return false;
  const t = timeOf(e);
  if (o.since && t < o.since) return false;
  if (o.until && t > o.until) return false;
  return true;
}

/** The log as a byte stream; `isRunning` stops a follow once the container is gone. `encode` turns an entry into bytes (swarm task logs add details). */
export function readLogs(path: string, o: LogOptions, isRunning: () => boolean, signal?: AbortSignal, encode: (e: LogEntry, o: LogOptions) => Buffer = encodeEntry): Readable {
  const out = new PassThrough();
  void (async () => {
    let entries: Entry[] = [];
    for (const f of await rotatedFiles(path)) {
      try {
        // concat, not push(...): a spread of a big log's entries overflows the call stack.
        entries = entries.concat(parseLines(await readFile(f, 'utf8')));
      } catch {
        // A rotated file may vanish while we read: skip it.
      }
    }
    entries = entries.filter((e) => accept(e, o));
    if (o.tail >= 0) entries = entries.slice(Math.max(0, entries.length - o.tail));
    for (const e of entries) out.write(encode(e, o));
    const pastUntil = () => o.until !== 0n && o.until < BigInt(Date.now()) * 1_000_000n;
    if (!o.follow || pastUntil()) return out.end();
    let offset = 0;
    let ino = 0;
    try {
      const st = await stat(path);
      offset = st.size;
      ino = st.ino;
    } catch {
      // Not created yet: follow from its start.
    }
    let partial = '';
    while (!signal?.aborted && !out.destroyed) {
      let st;
      try {
        st = await stat(path);
      } catch {
        st = undefined;
      }
      if (st && (st.ino !== ino || st.size < offset)) { ino = st.ino; offset = 0; partial = ''; }
      if (st && st.size > offset) {
        const fh = await open(path, 'r');
        const buf = Buffer.alloc(st.size - offset);
        await fh.read(buf, 0, buf.length, offset);
        await fh.close();
        offset = st.size;
        const text = partial + buf.toString('utf8');
        const cut = text.lastIndexOf('\n');
        partial = text.slice(cut + 1);
        for (const e of parseLines(text.slice(0, cut + 1))) if (accept(e, o)) out.write(encode(e, o));
        continue;
      }
      if (!isRunning()) break;
      if (pastUntil()) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    out.end();
  })().catch((err) => out.destroy(err as Error));
  return out;
}

/** "10m" / "1g" / "512k" / "100" -> bytes (LogConfig max-size). */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)b?$/i.exec(s.trim());
  if (!m) throw new Error(`invalid size ${JSON.stringify(s)}: use a number with k, m or g`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.floor(Number(m[1]) * mult);
}
