import { createServer, Socket } from 'node:net';

/** Whether something accepts connections on host:port now (false on refusal, error or timeout). */
export function listening(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => { s.destroy(); resolve(ok); };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.connect(port, host);
  });
}

/** A 127.0.0.1 port nobody listens on right now (for forwards a driver sets up). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Whether an SSH server greets on host:port with its banner. A NAT or QEMU forward
 * accepts the connection before the guest's sshd listens, so a connect alone proves nothing.
 */
export function sshBanner(host: string, port: number, timeoutMs = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    let got = '';
    const done = (ok: boolean) => { s.destroy(); resolve(ok); };
    s.setTimeout(timeoutMs, () => done(false));
    // The banner may arrive split: decide once a line or four bytes are in.
    s.on('data', (d: Buffer) => { got += d.toString('latin1'); if (got.includes('\n') || got.length >= 4) done(got.startsWith('SSH-')); });
    s.once('error', () => done(false));
    s.once('close', () => done(got.startsWith('SSH-')));
    s.connect(port, host);
  });
}
