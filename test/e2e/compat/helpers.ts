/** Shared by the compat tests: raw upgraded requests and the python SDK check. */
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';

export function requirePythonDocker(): void {
  try {
    execFileSync('python3', ['-c', 'import docker'], { stdio: 'ignore' });
  } catch {
    throw new Error('python3-docker is needed for this test: apt-get install python3-docker');
  }
}

/**
 * POSTs `body` with `Connection: Upgrade` (as SDKs start exec/attach) and reads the
 * connection to its end: the response head and the raw stream after it.
 */
export function hijacked(d: { socket: string }, path: string, body: unknown): Promise<{ head: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const payload = Buffer.from(JSON.stringify(body));
    const sock = connect(d.socket);
    const chunks: Buffer[] = [];
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', reject);
    sock.on('close', () => {
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) return reject(new Error(`no response head: ${all.toString()}`));
      resolve({ head: all.subarray(0, end).toString(), body: all.subarray(end + 4) });
    });
    sock.write(`POST ${path} HTTP/1.1\r\nHost: berthd\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${payload.length}\r\n\r\n`);
    sock.write(payload);
  });
}
