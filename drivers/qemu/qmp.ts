import { Socket, connect } from 'node:net';

/**
 * A QMP client over the machine's unix socket: one connection per call, the
 * capabilities handshake, then commands answered in order. QEMU's async events
 * arriving in between are skipped.
 */
export interface QmpStatus { status: string; running: boolean }

export class QmpError extends Error {}

export class Qmp {
  private buf = '';
  private waiters: { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }[] = [];
  private closed?: Error;

  private constructor(private readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => this.onData(d));
    const fail = (e: Error) => {
      this.closed ??= e;
      for (const w of this.waiters.splice(0)) w.reject(e);
    };
    sock.on('error', (e) => fail(new QmpError(`QMP: ${e.message}`)));
    sock.on('close', () => fail(new QmpError('QMP: connection closed')));
  }

  static async connect(path: string, timeoutMs = 5000): Promise<Qmp> {
    const sock = connect(path);
    const q = new Qmp(sock);
    const timer = setTimeout(() => sock.destroy(new Error(`no answer from ${path} within ${timeoutMs} ms`)), timeoutMs);
    try {
      await new Promise<void>((res, rej) => { sock.once('connect', res); sock.once('error', rej); });
      const greeting = await q.next();
      if (!('QMP' in greeting)) throw new QmpError(`QMP: unexpected greeting ${JSON.stringify(greeting)}`);
      await q.execute('qmp_capabilities');
      return q;
    } catch (err) {
      sock.destroy();
      throw err instanceof QmpError ? err : new QmpError(`QMP: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  private onData(d: string): void {
    this.buf += d;
    let i;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i).trim();
      this.buf = this.buf.slice(i + 1);
      if (!line) continue;
      let msg: Record<string, unknown>;
      try { msg = JSON.parse(line); } catch { continue; }
      if ('event' in msg) continue;
      this.waiters.shift()?.resolve(msg);
    }
  }

  private next(): Promise<Record<string, unknown>> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  async execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    const answer = this.next();
    this.sock.write(JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + '\n');
    const msg = await answer;
    if ('error' in msg) {
      const e = msg.error as { class?: string; desc?: string };
      throw new QmpError(`QMP ${command}: ${e.desc ?? e.class ?? 'error'}`);
    }
    return msg.return;
  }

  async status(): Promise<QmpStatus> {
    return (await this.execute('query-status')) as QmpStatus;
  }

  /** Whether KVM (rather than TCG) runs the guest. */
  async kvmEnabled(): Promise<boolean> {
    return ((await this.execute('query-kvm')) as { enabled: boolean }).enabled;
  }

  powerdown(): Promise<unknown> { return this.execute('system_powerdown'); }

  /** QEMU exits on quit and may drop the socket before it answers. */
  async quit(): Promise<void> {
    await this.execute('quit').catch((e) => { if (!/closed/.test(String(e))) throw e; });
  }

  close(): void { this.sock.destroy(); }
}

/** One command on a fresh connection. */
export async function withQmp<T>(path: string, fn: (q: Qmp) => Promise<T>, timeoutMs = 5000): Promise<T> {
  const q = await Qmp.connect(path, timeoutMs);
  try {
    return await fn(q);
  } finally {
    q.close();
  }
}
