/**
 * Service and task logs across nodes (docker service logs).
 *
 * Node side, nodeTaskLogs(): a task container's json-file log, every line framed as
 * docker frames service logs: "[TIMESTAMP ]DETAILS MESSAGE", DETAILS being
 * com.docker.swarm.node.id=..,com.docker.swarm.service.id=..,com.docker.swarm.task.id=..
 * (the docker CLI reads them to print "NAME.SLOT.TASK@NODE | "). Between nodes it is
 * always multiplexed frames (stdout 1, stderr 2).
 *
 * Manager side, mergeLogs(): the frame streams of every task's node, local ones read
 * directly, remote ones from the node's control port (GET /logs/<task id>, manager
 * certificate), relayed whole frames at a time; with follow, tasks that start later
 * are picked up (polled every second). A node that is down is named at the end, in
 * docker's words, as a system-error frame.
 */
import { request } from 'node:https';
import { PassThrough, Transform, type Readable } from 'node:stream';
import type { ContainerService } from '../containers/service.js';
import { readLogs, rfc3339Nanos, type LogEntry } from '../containers/logs.js';
import { frame, STDERR, STDOUT } from '../containers/frames.js';
import { isActive } from '../containers/state.js';
import { log } from '../log.js';
import { splitHostPort } from './ctl.js';
import { stateRank } from './spec.js';
import type { Obj } from './store.js';

const TASK_LABEL = 'com.docker.swarm.task.id';
const SYSTEMERR = 3;
const POLL_MS = 1000;

export interface TaskLogQuery {
  stdout: boolean;
  stderr: boolean;
  /** Unix nanoseconds; 0n = from the start. */
  since: bigint;
  timestamps: boolean;
  details: boolean;
  /** Lines from the end of each task's log; -1 = all. */
  tail: number;
  follow: boolean;
}

export function queryToParams(q: TaskLogQuery): string {
  return new URLSearchParams({
    stdout: q.stdout ? '1' : '0', stderr: q.stderr ? '1' : '0', since: String(q.since), timestamps: q.timestamps ? '1' : '0',
    details: q.details ? '1' : '0', tail: String(q.tail), follow: q.follow ? '1' : '0',
  }).toString();
}

export function paramsToQuery(p: URLSearchParams): TaskLogQuery {
  const tail = Number(p.get('tail') ?? -1);
  return {
    stdout: p.get('stdout') === '1', stderr: p.get('stderr') === '1', since: BigInt(/^\d+$/.test(p.get('since') ?? '') ? p.get('since')! : 0),
    timestamps: p.get('timestamps') === '1', details: p.get('details') === '1', tail: Number.isInteger(tail) ? tail : -1, follow: p.get('follow') === '1',
  };
}

/** docker's RFC3339NanoFixed: always nine fraction digits. */
function fixedNanos(time: string): string {
  const ns = rfc3339Nanos(time);
  const ms = Number(ns / 1_000_000n);
  return `${new Date(ms).toISOString().slice(0, 19)}.${String(ns % 1_000_000_000n).padStart(9, '0')}Z`;
}

function detailsOf(nodeId: string, serviceId: string, taskId: string): string {
  // sorted by key, query-escaped, as docker's attrsByteSlice
  return [['com.docker.swarm.node.id', nodeId], ['com.docker.swarm.service.id', serviceId], ['com.docker.swarm.task.id', taskId]]
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join(',');
}

/** One frame per line: the docker CLI parses the details of each write. */
function encodeLines(e: LogEntry, q: TaskLogQuery, details: string): Buffer {
  const lines = e.log.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const prefix = `${q.timestamps ? `${fixedNanos(e.time)} ` : ''}${q.details ? `${details} ` : ''}`;
  return Buffer.concat(lines.map((l) => frame(e.stream === 'stderr' ? STDERR : STDOUT, Buffer.from(prefix + l))));
}

/** The framed log of this node's container of a task; undefined when it has none. */
export function nodeTaskLogs(containers: ContainerService, taskId: string, q: TaskLogQuery, signal: AbortSignal): Readable | undefined {
  const rec = containers.list().find((r) => r.config.Labels?.[TASK_LABEL] === taskId);
  if (!rec || rec.hostConfig.LogConfig?.Type === 'none') return undefined;
  const labels = rec.config.Labels!;
  const details = detailsOf(labels['com.docker.swarm.node.id'] ?? '', labels['com.docker.swarm.service.id'] ?? '', taskId);
  const running = () => {
    const s = containers.store.find(rec.id)?.state;
    return Boolean(s && isActive(s));
  };
  return readLogs(rec.logPath, { ...q, until: 0n, tty: false }, running, signal, (e) => encodeLines(e, q, details));
}

/** Re-chunks a frame stream into whole frames. */
export class FrameSplitter extends Transform {
  private buf: Buffer = Buffer.alloc(0);
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 8) {
      const end = 8 + this.buf.readUInt32BE(4);
      if (this.buf.length < end) break;
      this.push(this.buf.subarray(0, end));
      this.buf = this.buf.subarray(end);
    }
    cb();
  }
}

export interface MergeDeps {
  self: string;
  tls: { ca: string; cert: string; key: string };
  /** The tasks whose logs are wanted, read afresh on every poll. */
  tasks(): Promise<Obj<any>[]>;
  /** Live nodes and their control addresses (HOST:PORT). */
  nodes(): Promise<{ alive: Set<string>; addr: Map<string, string> }>;
  local(taskId: string, q: TaskLogQuery, signal: AbortSignal): Readable | undefined;
}

function remoteLogs(addr: string, taskId: string, q: TaskLogQuery, tls: MergeDeps['tls'], signal: AbortSignal): Promise<Readable | undefined> {
  const { host, port } = splitHostPort(addr, 2377);
  return new Promise((resolve, reject) => {
    const req = request({
      host, port, path: `/logs/${encodeURIComponent(taskId)}?${queryToParams(q)}`, method: 'GET', signal,
      ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: true, checkServerIdentity: () => undefined, servername: '',
    }, (res) => {
      if (res.statusCode === 200) return resolve(res);
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => (res.statusCode === 404 ? resolve(undefined) : reject(new Error(`${addr}: HTTP ${res.statusCode} ${Buffer.concat(chunks).toString()}`))));
    });
    req.setTimeout(10_000, () => { if (!q.follow) req.destroy(new Error('timed out')); });
    req.on('error', reject);
    req.end();
  });
}

/** The logs of a set of tasks across the swarm as one stream (frames, or raw for a TTY service). */
export function mergeLogs(d: MergeDeps, q: TaskLogQuery, tty: boolean, signal: AbortSignal): Readable {
  const out = new PassThrough();
  const ctrl = new AbortController();
  const abort = () => ctrl.abort();
  signal.addEventListener('abort', abort, { once: true });
  out.on('close', abort);
  const opened = new Set<string>();
  const unavailable = new Set<string>();
  const pending: Promise<void>[] = [];
  const relay = (src: Readable) => new Promise<void>((resolve) => {
    const frames = src.pipe(new FrameSplitter());
    frames.on('data', (f: Buffer) => { if (!out.destroyed) out.write(tty ? f.subarray(8) : f); });
    frames.on('end', resolve);
    src.on('error', () => resolve());
    src.on('close', () => resolve());
  });
  void (async () => {
    while (!ctrl.signal.aborted) {
      const [tasks, nodes] = await Promise.all([d.tasks(), d.nodes()]);
      for (const t of tasks) {
        const nodeId: string = t.value.NodeID;
        // a task has a container from "running" on (later states keep it until removed)
        if (opened.has(t.id) || !nodeId || stateRank(t.value.Status.State) < stateRank('running') || t.value.Status.State === 'rejected') continue;
        if (nodeId !== d.self && (!nodes.alive.has(nodeId) || !nodes.addr.has(nodeId))) {
          unavailable.add(nodeId);
          continue;
        }
        opened.add(t.id);
        pending.push((async () => {
          try {
            const src = nodeId === d.self ? d.local(t.id, q, ctrl.signal) : await remoteLogs(nodes.addr.get(nodeId)!, t.id, q, d.tls, ctrl.signal);
            if (src) await relay(src);
          } catch (err) {
            if (ctrl.signal.aborted) return;
            log.debug(`swarm logs: task ${t.id} on node ${nodeId}: ${(err as Error).message}`);
            unavailable.add(nodeId);
            if (q.follow) opened.delete(t.id);
          }
        })());
      }
      if (!q.follow) break;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    await Promise.all(pending);
    if (unavailable.size && !tty && !q.follow) {
      const why = [...unavailable].map((n) => `node ${n} is not available`).join(', ');
      out.write(frame(SYSTEMERR, Buffer.from(`Error grabbing logs: warning: incomplete log stream. some logs could not be retrieved for the following reasons: ${why}\n`)));
    }
    out.end();
  })().catch((err) => out.destroy(err as Error));
  return out;
}
