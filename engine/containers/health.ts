/**
 * HEALTHCHECK: runs the probe as an exec in the container every interval and keeps
 * docker's Health state (starting, healthy, unhealthy; streak; last 5 results).
 */
import type { Engine } from '../engine.js';
import { log } from '../log.js';
import type { ExecService } from './exec.js';
import type { ContainerRecord } from './record.js';
import type { HealthConfig } from './types.js';

export interface HealthResult { Start: string; End: string; ExitCode: number; Output: string }
export interface Health { Status: 'starting' | 'healthy' | 'unhealthy'; FailingStreak: number; Log: HealthResult[] }

const NS = 1e6; // docker's durations are nanoseconds
const MAX_OUTPUT = 4096;

function probeArgs(hc: HealthConfig | null | undefined): string[] | undefined {
  const test = hc?.Test;
  if (!test?.length || test[0] === 'NONE') return undefined;
  if (test[0] === 'CMD') return test.slice(1);
  if (test[0] === 'CMD-SHELL') return ['/bin/sh', '-c', test.slice(1).join(' ')];
  return undefined;
}

export class HealthChecks {
  private timers = new Map<string, NodeJS.Timeout>();
  private states = new Map<string, Health>();

  constructor(private readonly engine: Engine, private readonly execs: () => ExecService) {}

  of(id: string): Health | undefined {
    return this.states.get(id);
  }

  start(rec: ContainerRecord): void {
    const args = probeArgs(rec.config.Healthcheck);
    if (!args) return;
    this.stop(rec.id);
    const hc = rec.config.Healthcheck!;
    const interval = (hc.Interval || 30_000 * NS) / NS;
    const timeout = (hc.Timeout || 30_000 * NS) / NS;
    const retries = hc.Retries || 3;
    const startPeriodEnd = Date.now() + (hc.StartPeriod ?? 0) / NS;
    this.states.set(rec.id, { Status: 'starting', FailingStreak: 0, Log: [] });
    const tick = async () => {
      const result = await this.probe(rec, args, timeout);
      const h = this.states.get(rec.id);
      if (!h) return;
      h.Log = [...h.Log, result].slice(-5);
      const before = h.Status;
      if (result.ExitCode === 0) {
        h.FailingStreak = 0;
        h.Status = 'healthy';
      } else if (Date.now() >= startPeriodEnd || h.Status !== 'starting') {
        h.FailingStreak++;
        if (h.FailingStreak >= retries) h.Status = 'unhealthy';
      }
      if (h.Status !== before) {
        this.engine.events.emit({ Type: 'container', Action: `health_status: ${h.Status}`, Actor: { ID: rec.id, Attributes: { image: rec.image, name: rec.name } } });
      }
      if (this.states.has(rec.id)) this.timers.set(rec.id, setTimeout(() => void tick(), interval).unref());
    };
    this.timers.set(rec.id, setTimeout(() => void tick(), interval).unref());
  }

  private async probe(rec: ContainerRecord, args: string[], timeoutMs: number): Promise<HealthResult> {
    const start = new Date().toISOString();
    const execs = this.execs();
    try {
      const { Id } = execs.create(rec.id, { Cmd: args, AttachStdout: true, AttachStderr: true });
      const conn = await execs.start(Id, { detach: false });
      const chunks: Buffer[] = [];
      conn?.on('data', (b: Buffer) => chunks.push(b));
      // The exit status and the output come on different sockets: the output is complete
      // when the monitor closes the attach stream, which may be after the exit is known.
      const drained = new Promise<void>((r) => { if (!conn || conn.destroyed || conn.readableEnded) r(); else { conn.once('end', r); conn.once('close', r); } });
      const finished = execs.exited(Id).then(() => true);
      const ok = await Promise.race([finished, new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs).unref())]);
      if (ok) await Promise.race([drained, new Promise((r) => setTimeout(r, 1000).unref())]);
      conn?.destroy();
      const exitCode = ok ? ((execs.inspect(Id).ExitCode as number | null) ?? -1) : -1;
      return { Start: start, End: new Date().toISOString(), ExitCode: exitCode, Output: ok ? demux(Buffer.concat(chunks)).slice(0, MAX_OUTPUT) : `Health check exceeded timeout (${timeoutMs}ms)` };
    } catch (err) {
      log.debug(`healthcheck ${rec.id.slice(0, 12)}: ${(err as Error).message}`);
      return { Start: start, End: new Date().toISOString(), ExitCode: -1, Output: (err as Error).message };
    }
  }

  stop(id: string): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
    this.states.delete(id);
  }
}

/** Payloads of multiplexed frames, concatenated. */
function demux(buf: Buffer): string {
  let out = '';
  let i = 0;
  while (i + 8 <= buf.length) {
    const size = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + size).toString();
    i += 8 + size;
  }
  return out;
}
